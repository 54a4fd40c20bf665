// What drives the avatar's mouth, into the engine session: agent PCM (segments named by the client, LiveKit-avatar
// semantics) or the microphone (one open segment while packets flow), never both at once. It turns the engine's
// playback events into the client's PlaybackStarted/Finished with segment ids, and frames into speaking events.
import { ErrorCode } from '@splatcast/proto';
import type { EngineSession } from '../engine/engine-session.js';
import type { SampleRate } from '../engine/protocol.js';
import { EngineError } from '../errors.js';
import { Logger } from '../logger.js';
import type { AudioSink } from '../media/microphone-input.js';
import { SessionError } from './session-error.js';

const logger = new Logger('SpeechInput');

export interface SpeechEvents {
  playbackStarted(segmentId: number): void;
  playbackFinished(segmentId: number, positionMs: number, interrupted: boolean): void;
  speakingStarted(): void;
  speakingStopped(durationMs: number): void;
  /** A push failed after it was accepted (engine restarting): reported to the client as a session error. */
  error(error: SessionError): void;
}

/** Engine errors a client can act on. */
function fromEngine(error: unknown): SessionError {
  if (error instanceof SessionError) return error;
  if (error instanceof EngineError && ['worker-died', 'timeout', 'invalid-state'].includes(error.code))
    return new SessionError(ErrorCode.ENGINE_UNAVAILABLE, error.message);
  return new SessionError(ErrorCode.INTERNAL, (error as Error).message);
}

export class SpeechInput implements AudioSink {
  /** Agent segments queued in the engine, in play order: [0] plays (or is about to). */
  private readonly segments: number[] = [];
  /** The segment chunks are being pushed to (not ended yet). */
  private open: number | undefined;
  private lastSequence: number | undefined;
  private bufferedMs = 0;
  private bufferedAt = performance.now();
  private micSegmentOpen = false;
  private speakingSince: number | undefined;
  private isClosed = false;

  constructor(
    private readonly engine: EngineSession,
    private readonly maxBufferedMs: number,
    private readonly events: SpeechEvents,
  ) {
    engine.on('playbackStarted', this.onStarted);
    engine.on('playbackFinished', this.onFinished);
  }

  /** Set while a microphone is produced: agent PCM is refused then. */
  microphone = false;

  /** An agent PCM chunk (s16le mono). Resolves once the engine queued it. */
  async pushPcm(data: Uint8Array, sampleRate: number, segmentId: number, sequence: number): Promise<void> {
    if (this.microphone)
      throw new SessionError(ErrorCode.UNEXPECTED_MESSAGE, 'a microphone drives this session; close it to push PCM');
    if (this.lastSequence !== undefined && sequence !== 0 && sequence <= this.lastSequence)
      logger.debug('pcm chunk %d after %d: duplicate or reordered', sequence, this.lastSequence);
    this.lastSequence = sequence;
    const chunkMs = (data.byteLength / 2 / sampleRate) * 1000;
    if (this.estimatedBufferedMs() + chunkMs > this.maxBufferedMs)
      throw new SessionError(
        ErrorCode.AUDIO_BUFFER_FULL,
        `agent audio would be ${Math.round(this.estimatedBufferedMs() + chunkMs)} ms ahead of playback (limit ${this.maxBufferedMs} ms)`,
      );
    if (this.open !== segmentId) {
      if (this.open !== undefined) await this.endSegment(this.open);
      this.open = segmentId;
      this.segments.push(segmentId);
    }
    // Copy: the chunk's bytes may sit at an odd offset of the WebSocket frame.
    const pcm = new Int16Array(data.byteLength / 2);
    new Uint8Array(pcm.buffer).set(data);
    this.bufferedMs = this.estimatedBufferedMs() + chunkMs;
    this.bufferedAt = performance.now();
    try {
      const result = await this.engine.pushAudio(
        pcm,
        sampleRate as SampleRate,
        performance.timeOrigin + performance.now(),
      );
      this.bufferedMs = result.bufferedMs;
      this.bufferedAt = performance.now();
    } catch (error) {
      throw fromEngine(error);
    }
  }

  async endSegment(segmentId: number): Promise<void> {
    if (this.open !== segmentId) return; // ended already, or never pushed: nothing to play
    this.open = undefined;
    try {
      await this.engine.endSegment();
    } catch (error) {
      throw fromEngine(error);
    }
  }

  /** clear_buffer: drops all queued speech; the engine reports the playing segment finished (interrupted). */
  async interrupt(): Promise<void> {
    this.open = undefined;
    try {
      const result = await this.engine.interrupt();
      if (!result.interrupted) {
        // Nothing had started playing: the queued segments end without a playback_finished from the engine.
        for (const id of this.segments.splice(0)) this.events.playbackFinished(id, 0, true);
      }
    } catch (error) {
      throw fromEngine(error);
    }
    this.bufferedMs = 0;
  }

  /** AudioSink: decoded microphone audio. */
  push(pcm: Int16Array, sampleRate: 48000, receivedAtMs: number): void {
    if (this.isClosed || this.engine.state !== 'open') return;
    this.micSegmentOpen = true;
    this.engine.pushAudio(pcm, sampleRate, receivedAtMs, true).catch((error) => {
      logger.debug('microphone audio dropped: %s', (error as Error).message);
    });
  }

  /** AudioSink: the microphone went quiet (or closed). */
  end(): void {
    if (!this.micSegmentOpen || this.isClosed || this.engine.state !== 'open') return;
    this.micSegmentOpen = false;
    this.engine.endSegment().catch(() => {});
  }

  /** Called for every frame: speaking transitions become events. */
  frame(speaking: boolean, ptsMs: number): void {
    if (speaking && this.speakingSince === undefined) {
      this.speakingSince = ptsMs;
      this.events.speakingStarted();
    } else if (!speaking && this.speakingSince !== undefined) {
      this.events.speakingStopped(ptsMs - this.speakingSince);
      this.speakingSince = undefined;
    }
  }

  /** The engine lost its audio (worker restart): the queued segments are gone. */
  reset(): void {
    this.open = undefined;
    this.segments.length = 0;
    this.bufferedMs = 0;
    this.micSegmentOpen = false;
  }

  close(): void {
    this.isClosed = true;
    this.engine.off('playbackStarted', this.onStarted);
    this.engine.off('playbackFinished', this.onFinished);
  }

  private estimatedBufferedMs(): number {
    return Math.max(0, this.bufferedMs - (performance.now() - this.bufferedAt));
  }

  private readonly onStarted = (): void => {
    const id = this.segments[0];
    if (id !== undefined) this.events.playbackStarted(id);
  };

  private readonly onFinished = ({ positionMs, interrupted }: { positionMs: number; interrupted: boolean }): void => {
    // Mic segments are not in the list: they finish silently.
    if (this.microphone && this.segments.length === 0) return;
    const id = this.segments.shift();
    if (id !== undefined) this.events.playbackFinished(id, Math.round(positionMs), interrupted);
    if (interrupted) {
      for (const rest of this.segments.splice(0)) this.events.playbackFinished(rest, 0, true);
    }
  };
}
