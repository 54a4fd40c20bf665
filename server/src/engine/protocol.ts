// What the parent and an engine worker process say to each other over the IPC channel (advanced serialization:
// typed arrays cross as they are). The parent is trusted less than nothing here: the worker validates every message
// and answers a bad one with an error reply, never a crash.
import { z } from 'zod';
import type { ErrorReply } from '../errors.js';

/** Sample rates pushAudio accepts (mono). */
export const SAMPLE_RATES = [16000, 24000, 48000] as const;
export type SampleRate = (typeof SAMPLE_RATES)[number];
/** Longest single pushAudio chunk: anything bigger is a client bug, not speech. */
export const MAX_CHUNK_SECONDS = 60;

const even = (v: number) => v % 2 === 0;

export const workerConfigSchema = z
  .object({
    /** 'auto': CUDA when usable, else the CPU. */
    device: z.enum(['auto', 'cpu', 'cuda']),
    width: z.number().int().min(16).max(4096).refine(even, 'must be even'),
    height: z.number().int().min(16).max(4096).refine(even, 'must be even'),
    /** Ticks per second of the worker's clock: 25 is real time; tests and benchmarks may run it faster. */
    fps: z.number().positive().max(1000),
    maxSessions: z.number().int().min(1).max(1024),
    /** Identities whose audio latency (engine audioLatencyMs) exceeds this are refused. */
    maxLookaheadMs: z.number().min(0).max(2000),
    /** Budget for cached idle frames (identity, track frame) shared by the worker's identities; 0 disables. */
    idleCacheBytes: z.number().int().min(0),
  })
  .strict();
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export const DEFAULT_WORKER_CONFIG: WorkerConfig = {
  device: 'auto',
  width: 512,
  height: 512,
  fps: 25,
  maxSessions: 32,
  maxLookaheadMs: 80,
  idleCacheBytes: 256 * 1024 * 1024,
};

const sessionId = z.string().min(1).max(128);

/** Codecs the worker encodes frames to (native/src: libvpx, OpenH264). */
export const VIDEO_CODECS = ['vp8', 'h264'] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];
export const MIN_BITRATE_BPS = 10_000;
export const MAX_BITRATE_BPS = 50_000_000;
const bySession = z.object({ sessionId }).strict();
const identityId = z.string().min(1).max(256);
const identityDir = z.string().min(1).max(4096);

export const requestSchemas = {
  openSession: z.object({ sessionId, identityId, identityDir }).strict(),
  closeSession: bySession,
  pushAudio: z
    .object({
      sessionId,
      sampleRate: z.literal(SAMPLE_RATES),
      pcm: z.custom<Float32Array | Int16Array>(
        (v) => v instanceof Float32Array || v instanceof Int16Array,
        'expected mono PCM as a Float32Array or an Int16Array',
      ),
      /** When the chunk reached the server (epoch ms): frames report their latency from it. */
      receivedAtMs: z.number().finite().nonnegative().optional(),
      /** Real-time audio (a microphone): it skips ahead when the worker drops tick slots, to stay real time. */
      live: z.boolean().optional(),
    })
    .strict()
    .refine((r) => r.pcm.length <= r.sampleRate * MAX_CHUNK_SECONDS, {
      message: `a chunk may hold at most ${MAX_CHUNK_SECONDS} s of audio`,
      path: ['pcm'],
    }),
  /** No more audio for now: the queued audio plays out to its end (zero-padded to a whole frame). */
  endSegment: bySession,
  /** clear_buffer: drop the queued audio at once and go idle. */
  interrupt: bySession,
  stats: z.object({}).strict(),
  /** Encode the session's frames in the worker from now on (encodedFrame messages replace frame messages). */
  configureVideo: z
    .object({
      sessionId,
      codec: z.enum(VIDEO_CODECS),
      bitrateBps: z.number().int().min(MIN_BITRATE_BPS).max(MAX_BITRATE_BPS),
      /** Safety keyframe interval, frames; keyframes otherwise come on requestKeyframe (PLI/FIR). */
      keyframeInterval: z.number().int().min(1).max(100000).optional(),
    })
    .strict(),
  /** The next encoded frame is a keyframe. */
  requestKeyframe: bySession,
  setBitrate: z.object({ sessionId, bitrateBps: z.number().int().min(MIN_BITRATE_BPS).max(MAX_BITRATE_BPS) }).strict(),
  /**
   * Load an identity onto the device ahead of any session (a warm spare worker holds the identities in use, so
   * sessions moved onto it after a crash resume without loading them). Holds one reference until releaseIdentity.
   */
  preloadIdentity: z.object({ identityId, identityDir }).strict(),
  releaseIdentity: z.object({ identityId }).strict(),
} as const;

export type Method = keyof typeof requestSchemas;
export type RequestData<M extends Method> = z.input<(typeof requestSchemas)[M]>;

export interface OpenSessionResult {
  identityName: string;
  /** Audio latency the identity's feature window adds (its lookahead), ms. */
  lookaheadMs: number;
  width: number;
  height: number;
}
export interface PushAudioResult {
  /** Audio queued and not yet played, ms (16 kHz samples). */
  bufferedMs: number;
}
export interface InterruptResult {
  /** Audio of the interrupted segment played so far, ms. */
  positionMs: number;
  /** False when nothing was queued (no playback_finished was sent). */
  interrupted: boolean;
}
export interface WorkerStats {
  sessions: number;
  identities: number;
  /** Identities held by preloadIdentity (a warm spare's), whether or not a session uses them. */
  preloadedIdentities: number;
  ticks: number;
  /** Ticks that started more than a quarter period after their slot. */
  lateTicks: number;
  /** Tick slots dropped because the previous tick overran. */
  skippedTicks: number;
  /** renderBatch calls, and ticks that made at least one. */
  renderCalls: number;
  renderTicks: number;
  maxBatch: number;
  framesRendered: number;
  /** Idle frames served from the idle cache (or shared within a tick) instead of rendered. */
  framesReused: number;
  /** Frames of a playing segment whose audio had not arrived in time (an idle frame was shown). */
  underruns: number;
  tickMsMean: number;
  tickMsMax: number;
  idleCacheBytes: number;
}
export type Empty = Record<string, never>;
export interface Results {
  openSession: OpenSessionResult;
  closeSession: Empty;
  pushAudio: PushAudioResult;
  endSegment: Empty;
  interrupt: InterruptResult;
  stats: WorkerStats;
  configureVideo: Empty;
  requestKeyframe: Empty;
  setBitrate: Empty;
  preloadIdentity: Empty;
  releaseIdentity: Empty;
}

/** Sample rate of the audio frames carry: the engine's feature rate (log-mel at 16 kHz). */
export const FRAME_AUDIO_RATE = 16000;

/** One video frame of one session and the audio that plays with it. */
export interface EngineFrame {
  sessionId: string;
  /** Frames since the session opened (a gap means the worker dropped tick slots). */
  frameIndex: number;
  /** frameIndex at 25 fps, ms: the media clock. */
  ptsMs: number;
  width: number;
  height: number;
  i420: Uint8Array;
  /** 16 kHz mono PCM of exactly this frame (640 samples; silence when idle). */
  audio: Float32Array;
  /** The frame carries speech (a playing segment's audio). */
  speaking: boolean;
  timing: FrameTiming;
}

/** Where a frame's time went, epoch ms on the worker's clock (performance.timeOrigin + performance.now()). */
export interface FrameTiming {
  /** When the last audio sample this frame plays reached the server (undefined: idle frame, or not given). */
  audioArrivalMs?: number;
  /** The tick began: features of every frame in it computed from here. */
  tickMs: number;
  /** Features computed and the frame's AudioNet input built. */
  featuresMs: number;
  /** The batch holding the frame was rendered. */
  renderedMs: number;
  /** Encoded (encodedFrame only). */
  encodedMs?: number;
}

/** A frame encoded in the worker (sessions after configureVideo): what the SFU packetises. */
export interface EncodedEngineFrame extends Omit<EngineFrame, 'i420'> {
  /** Undefined when the encoder fell behind and this frame's picture was dropped (its audio still plays). */
  video?: { codec: VideoCodec; data: Uint8Array; keyframe: boolean };
}

/** Epoch milliseconds on a monotonic base, comparable between processes of one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export type SessionEvent =
  | { sessionId: string; type: 'playback_started' }
  | { sessionId: string; type: 'playback_finished'; positionMs: number; interrupted: boolean };

export const parentMessageSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('request'),
    id: z.number().int().nonnegative(),
    method: z.string(),
    data: z.unknown().optional(),
  }),
  z.object({ kind: z.literal('close') }),
]);
export type ParentMessage = z.infer<typeof parentMessageSchema>;

export type ChildMessage =
  | { kind: 'ready'; device: 'cpu' | 'cuda'; reason: string }
  | { kind: 'response'; id: number; ok: true; data: unknown }
  | { kind: 'response'; id: number; ok: false; error: ErrorReply }
  | { kind: 'frame'; frame: EngineFrame }
  | { kind: 'encodedFrame'; frame: EncodedEngineFrame }
  | { kind: 'sessionEvent'; event: SessionEvent }
  /** A message the worker could not even attribute to a request. */
  | { kind: 'protocolError'; message: string }
  /** The worker is about to exit on an unrecoverable error. */
  | { kind: 'fatal'; message: string };

/** Exit codes of a worker process: 0 after close, these otherwise (a signal when killed). */
export const EXIT_FATAL = 1;
export const EXIT_BAD_START = 2;

/** zod issues as one line: "pcm: a chunk may hold ...; sampleRate: ...". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}
