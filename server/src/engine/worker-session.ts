// A session inside an engine worker: its queue of speech segments and what its next frame shows. Every tick gives
// each session exactly one frame: the next frame of the playing segment when its audio and lookahead are there,
// otherwise an idle frame (track pose and blinks, silence features, silent audio).
import { type FrameRequest, trackFrameAt, VIDEO_FPS } from '@splatcast/engine';
import { EngineError } from '../errors.js';
import type { IdentityEntry } from './identity-cache.js';
import type { InterruptResult, SessionEvent } from './protocol.js';
import { SAMPLES_PER_FRAME, Utterance } from './utterance.js';

/** Most audio a session may queue ahead of playback. */
export const MAX_BUFFERED_SECONDS = 600;
const SILENCE = new Float32Array(SAMPLES_PER_FRAME);

export interface FramePlan {
  session: WorkerSession;
  frameIndex: number;
  ptsMs: number;
  speaking: boolean;
  audio: Float32Array;
  /** When the frame's last audio sample reached the server (epoch ms), for speech frames pushed with it. */
  audioArrivalMs?: number;
  request: FrameRequest;
  /** Set on idle frames: equal (identity, track frame) pairs render once and are cached. */
  idleTrackFrame?: number;
  /** Events to post before and after the frame. */
  before: SessionEvent[];
  after: SessionEvent[];
}

export class WorkerSession {
  /** Segments in play order: [0] plays (or waits for its first frame's audio), later ones were ended behind it. */
  private segments: Utterance[] = [];
  private underrunCount = 0;
  private skippedCount = 0;
  private lastFrameIndex: number | undefined;

  constructor(
    readonly id: string,
    readonly entry: IdentityEntry,
    /** The scheduler tick of the session's frame 0. */
    readonly startTick: number,
    private readonly emit: (event: SessionEvent) => void,
  ) {}

  get underruns(): number {
    return this.underrunCount;
  }

  /** Audio queued and not yet played, ms. */
  get bufferedMs(): number {
    return this.segments.reduce((ms, s) => ms + s.bufferedMs, 0);
  }

  /** Live-audio frames skipped to catch up after dropped tick slots. */
  get skippedFrames(): number {
    return this.skippedCount;
  }

  pushAudio(pcm: Float32Array, sampleRate: number, receivedAtMs?: number, live = false): number {
    const seconds = pcm.length / sampleRate;
    if (this.bufferedMs / 1000 + seconds > MAX_BUFFERED_SECONDS)
      throw new EngineError(
        'invalid-request',
        `session "${this.id}" would queue more than ${MAX_BUFFERED_SECONDS} s of audio; push closer to real time`,
      );
    let segment = this.segments.at(-1);
    if (!segment || segment.ended || segment.live !== live) {
      if (segment && !segment.ended) segment.end();
      segment = new Utterance(this.entry.identity.model.audio, live);
      this.segments.push(segment);
    }
    segment.push(pcm, sampleRate, receivedAtMs);
    return this.bufferedMs;
  }

  /** Ends the segment being pushed: it plays out to its end, then playback_finished. */
  endSegment(): void {
    const segment = this.segments.at(-1);
    if (!segment || segment.ended) return;
    segment.end();
    if (segment.samples === 0) this.segments.pop();
  }

  /** clear_buffer: drops every queued segment now; the next frame is idle. */
  interrupt(): InterruptResult {
    const current = this.segments[0];
    this.segments = [];
    if (!current) return { positionMs: 0, interrupted: false };
    const positionMs = current.positionMs;
    this.emit({ sessionId: this.id, type: 'playback_finished', positionMs, interrupted: true });
    return { positionMs, interrupted: true };
  }

  /** What this session shows at scheduler tick `tick`; advances its playback. */
  plan(tick: number): FramePlan {
    const frameIndex = tick - this.startTick;
    const identity = this.entry.identity;
    const trackFrame = trackFrameAt(frameIndex, identity.tracks.frames);
    const base = { session: this, frameIndex, ptsMs: (frameIndex * 1000) / VIDEO_FPS };
    const current = this.segments[0];
    // Dropped tick slots moved the media clock on: live speech skips as many frames so it stays real time (its
    // latency would otherwise grow by 40 ms per dropped slot); pushed speech keeps every sample and plays later.
    const dropped = this.lastFrameIndex === undefined ? 0 : frameIndex - this.lastFrameIndex - 1;
    this.lastFrameIndex = frameIndex;
    if (dropped > 0 && current?.live) this.skippedCount += current.skip(dropped);
    if (current?.ready()) {
      const before: SessionEvent[] = current.started ? [] : [{ sessionId: this.id, type: 'playback_started' }];
      const { audioWindows, audio, audioArrivalMs } = current.take();
      const after: SessionEvent[] = [];
      if (current.finished) {
        this.segments.shift();
        after.push({
          sessionId: this.id,
          type: 'playback_finished',
          positionMs: current.positionMs,
          interrupted: false,
        });
      }
      const request = { identity, trackFrame, audioWindows };
      return { ...base, speaking: true, audio, audioArrivalMs, request, before, after };
    }
    if (current?.started) this.underrunCount++;
    return {
      ...base,
      speaking: false,
      audio: SILENCE,
      request: { identity, trackFrame, audioWindows: this.entry.silenceWindows },
      idleTrackFrame: trackFrame,
      before: [],
      after: [],
    };
  }
}
