// A streaming session: one client, one identity, one engine session, and its media on one mediasoup router. It
// outlives its WebSocket for a while (a client that reconnects resumes it), survives an engine worker restart
// (the pool re-opens it; queued speech is lost and reported interrupted) and a media worker crash (new media on
// another router, MediaReset to the client). close() cascades to everything it holds.
import { ErrorCode, type KnownClientMessage, type ServerMessageInit, TransportDirection } from '@splatcast/proto';
import type { types } from 'mediasoup';
import type { VerifiedToken } from '../auth/token-verifier.js';
import type { StreamingConfig } from '../config.js';
import type { EngineSession } from '../engine/engine-session.js';
import { type EncodedEngineFrame, epochMs } from '../engine/protocol.js';
import { EnhancedEventEmitter } from '../enhanced-events.js';
import type { ResolvedIdentity } from '../identities/identity-resolver.js';
import { Logger } from '../logger.js';
import { interruptMs, keyframeRequestsTotal, observeFrame } from '../metrics/streaming.js';
import type { MediaSlot, MediaWorkerPool } from '../sfu/media-worker-pool.js';
import { MediaSession } from './media-session.js';
import { asSessionError, parseJson, SessionError } from './session-error.js';
import { SessionStats } from './session-stats.js';
import { SpeechInput } from './speech-input.js';

const logger = new Logger('Session');
const KEYFRAME_MIN_INTERVAL_MS = 300;

type Payload = KnownClientMessage['payload'];
/** The answer to a request, without its request id. */
export type Response = ServerMessageInit['payload'];

export type SessionEvents = {
  /** A server event for the client (request_id 0); dropped while no connection is attached. */
  event: [Response];
  /** The session is over (its owner removes it). */
  '@close': [];
};

export interface SessionOptions {
  id: string;
  token: VerifiedToken;
  identity: ResolvedIdentity;
  engine: EngineSession;
  media: MediaWorkerPool;
  config: StreamingConfig;
}

export class Session extends EnhancedEventEmitter<SessionEvents> {
  readonly id: string;
  readonly token: VerifiedToken;
  readonly identity: ResolvedIdentity;
  readonly engine: EngineSession;
  readonly startedAt = new Date();
  readonly stats: SessionStats;
  private readonly speech: SpeechInput;
  private media: MediaSession | undefined;
  private mediaSlot: MediaSlot | undefined;
  private lastKeyframeRequest = 0;
  private bitrate: number;
  private interruptAt: number | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private isClosed = false;

  constructor(private readonly options: SessionOptions) {
    super();
    this.id = options.id;
    this.token = options.token;
    this.identity = options.identity;
    this.engine = options.engine;
    this.bitrate = options.config.media.startBitrateBps;
    this.stats = new SessionStats();
    this.speech = new SpeechInput(this.engine, options.config.sessions.maxPcmBufferedMs, {
      playbackStarted: (segmentId) => this.emitEvent({ case: 'playbackStarted', value: { segmentId } }),
      playbackFinished: (segmentId, positionMs, interrupted) =>
        this.emitEvent({ case: 'playbackFinished', value: { segmentId, positionMs, interrupted } }),
      speakingStarted: () => this.emitEvent({ case: 'speakingStarted', value: {} }),
      speakingStopped: (durationMs) => this.emitEvent({ case: 'speakingStopped', value: { durationMs } }),
      error: (error) => this.emitEvent({ case: 'error', value: { code: error.code, message: error.message } }),
    });
    this.engine.on('encodedFrame', this.onFrame);
    this.engine.on('workerdied', this.onEngineDied);
    this.engine.on('workerclose', this.onEngineGone);
    const interval = options.config.sessions.statsIntervalMs;
    if (interval > 0) {
      this.statsTimer = setInterval(() => this.emitEvent({ case: 'stats', value: this.stats.window() }), interval);
      this.statsTimer.unref();
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get mediaSession(): MediaSession | undefined {
    return this.media;
  }

  /**
   * Encoded frames from the start, in the preferred codec (a client that decodes only another one switches it at
   * its first consume): speaking events and timing flow even for agents that never receive video, and raw frames
   * never cross the IPC channel.
   */
  async startEncoding(): Promise<void> {
    await this.engine.configureVideo(this.options.config.media.videoCodecs[0] ?? 'vp8', this.bitrate);
  }

  /** Creates the session's media on a router of `pool` (at start, and after its media worker died). */
  async attachMedia(): Promise<void> {
    const pool = this.options.media;
    await pool.running(5000);
    const slot = pool.acquire();
    if (!slot) throw new SessionError(ErrorCode.ENGINE_UNAVAILABLE, 'no media worker is running');
    try {
      const media = await MediaSession.create(slot, this.options.config.media, this.speech, this.id);
      if (this.isClosed) {
        media.close();
        pool.release(slot);
        return;
      }
      this.media = media;
      this.mediaSlot = slot;
      media.on('codec', (codec) => {
        if (this.engine.videoConfig?.codec === codec) return;
        this.engine
          .configureVideo(codec, this.bitrate)
          .catch((error) => logger.warn('session %s: configureVideo: %s', this.id, (error as Error).message));
      });
      media.on('keyframeRequest', this.requestKeyframe);
      media.on('availableBitrate', this.onAvailableBitrate);
      media.on('sent', this.onSent);
    } catch (error) {
      pool.release(slot);
      throw error;
    }
  }

  /** The media worker under this session died: new media elsewhere, and the client is told to negotiate again. */
  async mediaLost(reason: string): Promise<void> {
    if (this.isClosed) return;
    this.media?.close();
    this.media = undefined;
    this.mediaSlot = undefined;
    this.speech.microphone = false;
    try {
      await this.attachMedia();
      this.emitEvent({ case: 'mediaReset', value: { reason } });
    } catch (error) {
      logger.error('session %s: media could not be re-created: %s', this.id, (error as Error).message);
      this.emitEvent({
        case: 'error',
        value: { code: ErrorCode.ENGINE_UNAVAILABLE, message: 'media lost', fatal: true },
      });
      this.close();
    }
  }

  /** Whether the session's media lives on `slot`. */
  onSlot(slot: MediaSlot): boolean {
    return this.mediaSlot === slot;
  }

  /** Answers one request (Hello and Ping are the connection's). Throws SessionError. */
  async handle(payload: Payload): Promise<Response | undefined> {
    if (this.isClosed) throw new SessionError(ErrorCode.UNEXPECTED_MESSAGE, 'the session is closed');
    try {
      return await this.dispatch(payload);
    } catch (error) {
      throw asSessionError(error);
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.statsTimer);
    this.engine.off('encodedFrame', this.onFrame);
    this.engine.off('workerdied', this.onEngineDied);
    this.engine.off('workerclose', this.onEngineGone);
    this.speech.close();
    this.media?.close();
    if (this.mediaSlot) this.options.media.release(this.mediaSlot);
    this.engine.close();
    this.safeEmit('@close');
  }

  private async dispatch(payload: Payload): Promise<Response | undefined> {
    switch (payload.case) {
      case 'createWebrtcTransport': {
        const { direction, forceTcp } = payload.value;
        const info = await this.requireMedia().createWebRtcTransport(direction, forceTcp);
        const media = this.options.config.media;
        return {
          case: 'webrtcTransportCreated',
          value: {
            transportId: info.transportId,
            iceParametersJson: JSON.stringify(info.iceParameters),
            iceCandidatesJson: JSON.stringify(info.iceCandidates),
            dtlsParametersJson: JSON.stringify(info.dtlsParameters),
            iceServersJson: media.iceServers.length ? JSON.stringify(media.iceServers) : '',
            relayOnly: media.relayOnly,
          },
        };
      }
      case 'connectTransport':
        await this.requireMedia().connectTransport(
          payload.value.transportId,
          parseJson<types.DtlsParameters>(payload.value.dtlsParametersJson),
        );
        return { case: 'ack', value: {} };
      case 'produce': {
        this.require('audio');
        const rtp = parseJson<types.RtpParameters>(payload.value.rtpParametersJson);
        const producerId = await this.requireMedia().produce(payload.value.transportId, payload.value.kind, rtp);
        this.speech.microphone = true;
        return { case: 'produced', value: { producerId } };
      }
      case 'closeProducer':
        this.requireMedia().closeProducer(payload.value.producerId);
        this.speech.microphone = this.requireMedia().microphoneActive;
        return { case: 'ack', value: {} };
      case 'consume': {
        const caps = parseJson<types.RtpCapabilities>(payload.value.rtpCapabilitiesJson);
        const { consumer, producerId } = await this.requireMedia().consume(
          payload.value.transportId,
          payload.value.kind,
          caps,
        );
        return {
          case: 'consumed',
          value: {
            consumerId: consumer.id,
            producerId,
            kind: payload.value.kind,
            rtpParametersJson: JSON.stringify(consumer.rtpParameters),
          },
        };
      }
      case 'resumeConsumer':
        await this.requireMedia().resumeConsumer(payload.value.consumerId);
        return { case: 'ack', value: {} };
      case 'restartIce': {
        const ice = await this.requireMedia().restartIce(payload.value.transportId);
        return { case: 'iceRestarted', value: { iceParametersJson: JSON.stringify(ice) } };
      }
      case 'pcmChunk': {
        this.require('audio');
        const { data, sampleRate, segmentId, sequence } = payload.value;
        await this.speech.pushPcm(data, sampleRate, segmentId, sequence);
        return undefined;
      }
      case 'segmentEnd':
        this.require('audio');
        await this.speech.endSegment(payload.value.segmentId);
        return undefined;
      case 'clearBuffer':
        this.require('interrupt');
        this.interruptAt = epochMs();
        await this.speech.interrupt();
        return { case: 'ack', value: {} };
      case 'hello':
      case 'ping':
        throw new SessionError(ErrorCode.UNEXPECTED_MESSAGE, `${payload.case} is handled by the connection`);
      default:
        throw new SessionError(ErrorCode.UNEXPECTED_MESSAGE, `unhandled ${(payload satisfies never as Payload).case}`);
    }
  }

  private require(capability: 'audio' | 'interrupt'): void {
    if (!this.token.capabilities.has(capability))
      throw new SessionError(ErrorCode.PERMISSION_DENIED, `the token does not grant "${capability}"`);
  }

  private requireMedia(): MediaSession {
    if (!this.media || this.media.closed)
      throw new SessionError(ErrorCode.TRANSPORT_NOT_FOUND, 'the media of this session is being re-created');
    return this.media;
  }

  private emitEvent(payload: Response): void {
    if (!this.isClosed) this.safeEmit('event', payload);
  }

  private readonly onFrame = (frame: EncodedEngineFrame): void => {
    this.speech.frame(frame.speaking, frame.ptsMs);
    this.media?.sendFrame(frame);
  };

  private readonly onSent = (frame: EncodedEngineFrame, sentMs: number): void => {
    observeFrame(frame, sentMs);
    this.stats.frameSent(frame, sentMs);
    if (this.interruptAt !== undefined && !frame.speaking) {
      interruptMs.observe(sentMs - this.interruptAt);
      this.stats.interrupted(sentMs - this.interruptAt);
      this.interruptAt = undefined;
    }
  };

  private readonly requestKeyframe = (): void => {
    keyframeRequestsTotal.inc();
    const now = performance.now();
    if (now - this.lastKeyframeRequest < KEYFRAME_MIN_INTERVAL_MS || this.engine.state !== 'open') return;
    this.lastKeyframeRequest = now;
    this.engine.requestKeyframe().catch(() => {});
  };

  private readonly onAvailableBitrate = (available: number): void => {
    const media = this.options.config.media;
    // Leave room for speech (32 kb/s) and RTP overhead.
    const target = Math.round(Math.min(media.maxBitrateBps, Math.max(media.minBitrateBps, available * 0.85 - 40_000)));
    if (
      Math.abs(target - this.bitrate) < this.bitrate * 0.1 ||
      this.engine.state !== 'open' ||
      !this.engine.videoConfig
    )
      return;
    this.bitrate = target;
    this.stats.bitrateTarget = target;
    this.engine.setBitrate(target).catch(() => {});
  };

  private readonly onEngineDied = (): void => {
    this.speech.reset();
    this.emitEvent({
      case: 'error',
      value: { code: ErrorCode.ENGINE_UNAVAILABLE, message: 'the render engine restarted; queued speech was dropped' },
    });
  };

  private readonly onEngineGone = (): void => {
    logger.warn('session %s: its engine closed', this.id);
    this.emitEvent({
      case: 'error',
      value: { code: ErrorCode.ENGINE_UNAVAILABLE, message: 'engine closed', fatal: true },
    });
    this.close();
  };
}

export { TransportDirection };
