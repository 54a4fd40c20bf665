// A streaming session as the parent sees it: push speech, end segments, interrupt; receive frames and playback
// events. It lives on one engine worker and closes with it, unless it was opened through an EnginePool, which moves
// it to the restarted worker when its worker dies ('workerdied', then 'resumed'; the audio state starts afresh).
import { EnhancedEventEmitter } from '../enhanced-events.js';
import { EngineError } from '../errors.js';
import { Logger } from '../logger.js';
import type { EngineWorker } from './engine-worker.js';
import {
  type EncodedEngineFrame,
  type EngineFrame,
  FRAME_AUDIO_RATE,
  type InterruptResult,
  type OpenSessionResult,
  type PushAudioResult,
  type SampleRate,
  type SessionEvent,
  type VideoCodec,
} from './protocol.js';

const logger = new Logger('EngineSession');

export interface PlaybackFinished {
  /** Audio of the segment played, ms. */
  positionMs: number;
  interrupted: boolean;
}

export type EngineSessionEvents = {
  /** A raw frame (until configureVideo). */
  frame: [EngineFrame];
  /** An encoded frame (after configureVideo). */
  encodedFrame: [EncodedEngineFrame];
  playbackStarted: [];
  playbackFinished: [PlaybackFinished];
  /** Its worker closed (the session is closed now). */
  workerclose: [];
  /** Its worker died and a pool is restarting it: the session waits (pushes are refused) until 'resumed'. */
  workerdied: [];
  resumed: [];
  /** @internal lets the owning worker and pool forget the session */
  '@close': [];
};

export type EngineSessionObserverEvents = { close: [] };

export type SessionState = 'open' | 'resuming' | 'closed';

export class EngineSession extends EnhancedEventEmitter<EngineSessionEvents> {
  readonly observer = new EnhancedEventEmitter<EngineSessionObserverEvents>();
  private worker: EngineWorker | undefined;
  private info: OpenSessionResult;
  private sessionState: SessionState = 'open';
  private resumable = false;
  /** Speech samples played since playback_started: where a segment cut by a worker death had got to. */
  private playedSamples: number | undefined;
  private video: { codec: VideoCodec; bitrateBps: number } | undefined;

  /** @internal sessions are made by EngineWorker.openSession */
  constructor(
    readonly id: string,
    readonly identityId: string,
    readonly identityDir: string,
    worker: EngineWorker,
    info: OpenSessionResult,
  ) {
    super();
    this.worker = worker;
    this.info = info;
  }

  get state(): SessionState {
    return this.sessionState;
  }

  get closed(): boolean {
    return this.sessionState === 'closed';
  }

  /** Audio latency the identity's feature window adds, ms. */
  get lookaheadMs(): number {
    return this.info.lookaheadMs;
  }

  get identityName(): string {
    return this.info.identityName;
  }

  /** The worker process the session runs on (undefined while resuming or closed). */
  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  /**
   * Queues mono PCM (16, 24 or 48 kHz; Int16 or float in [-1, 1]) behind the audio already queued. `receivedAtMs`
   * (epoch ms, see epochMs) is when it reached the server: the frames it drives report latency from there. `live`
   * audio (a microphone) skips ahead when the worker falls behind, instead of playing later and later.
   */
  async pushAudio(
    pcm: Float32Array | Int16Array,
    sampleRate: SampleRate,
    receivedAtMs?: number,
    live = false,
  ): Promise<PushAudioResult> {
    const data = {
      sessionId: this.id,
      pcm,
      sampleRate,
      ...(receivedAtMs === undefined ? {} : { receivedAtMs }),
      ...(live ? { live } : {}),
    };
    return this.live('pushAudio').request('pushAudio', data);
  }

  /** Encode frames in the worker from now on ('encodedFrame' replaces 'frame'); kept across worker restarts. */
  async configureVideo(codec: VideoCodec, bitrateBps: number): Promise<void> {
    this.video = { codec, bitrateBps };
    await this.live('configureVideo').request('configureVideo', { sessionId: this.id, codec, bitrateBps });
  }

  async requestKeyframe(): Promise<void> {
    await this.live('requestKeyframe').request('requestKeyframe', { sessionId: this.id });
  }

  async setBitrate(bitrateBps: number): Promise<void> {
    if (this.video) this.video.bitrateBps = bitrateBps;
    await this.live('setBitrate').request('setBitrate', { sessionId: this.id, bitrateBps });
  }

  /** The encoding set by configureVideo, if any. */
  get videoConfig(): { codec: VideoCodec; bitrateBps: number } | undefined {
    return this.video ? { ...this.video } : undefined;
  }

  /** No more audio for now: what is queued plays out, then playbackFinished. */
  async endSegment(): Promise<void> {
    await this.live('endSegment').request('endSegment', { sessionId: this.id });
  }

  /** clear_buffer: drops the queued audio at once; the next frames are idle. */
  async interrupt(): Promise<InterruptResult> {
    return this.live('interrupt').request('interrupt', { sessionId: this.id });
  }

  close(): void {
    if (this.closed) return;
    const worker = this.worker;
    this.detach();
    worker
      ?.request('closeSession', { sessionId: this.id })
      .catch((error: EngineError) => logger.debug('closeSession %s: %s', this.id, error.message));
  }

  /** @internal */
  enableResume(): void {
    this.resumable = true;
  }

  /** @internal the session now runs on `worker` (opened there again after its old worker died) */
  resumedOn(worker: EngineWorker, info: OpenSessionResult): void {
    this.worker = worker;
    this.info = info;
    this.sessionState = 'open';
    this.safeEmit('resumed');
  }

  /** @internal */
  frameReceived(frame: EngineFrame | EncodedEngineFrame): void {
    if (this.playedSamples !== undefined && frame.speaking) this.playedSamples += frame.audio.length;
    if ('i420' in frame) this.safeEmit('frame', frame);
    else this.safeEmit('encodedFrame', frame);
  }

  /** @internal */
  eventReceived(event: SessionEvent): void {
    if (event.type === 'playback_started') {
      this.playedSamples = 0;
      this.safeEmit('playbackStarted');
    } else {
      this.playedSamples = undefined;
      this.safeEmit('playbackFinished', { positionMs: event.positionMs, interrupted: event.interrupted });
    }
  }

  /** @internal its worker was closed */
  workerClosed(): void {
    if (this.closed) return;
    this.detach();
    this.safeEmit('workerclose');
  }

  /** @internal its worker process exited unexpectedly */
  workerDied(): void {
    if (this.closed) return;
    if (!this.resumable) {
      this.workerClosed();
      return;
    }
    this.worker = undefined;
    this.sessionState = 'resuming';
    if (this.playedSamples !== undefined) {
      const positionMs = (this.playedSamples * 1000) / FRAME_AUDIO_RATE;
      this.playedSamples = undefined;
      this.safeEmit('playbackFinished', { positionMs, interrupted: true });
    }
    this.safeEmit('workerdied');
  }

  private detach(): void {
    this.worker = undefined;
    this.sessionState = 'closed';
    this.playedSamples = undefined;
    this.safeEmit('@close');
    this.observer.safeEmit('close');
  }

  private live(method: string): EngineWorker {
    if (this.sessionState === 'closed')
      throw new EngineError('invalid-state', `${method}: session "${this.id}" is closed`);
    if (!this.worker)
      throw new EngineError('worker-died', `${method}: session "${this.id}" is resuming on a restarted engine worker`);
    return this.worker;
  }
}
