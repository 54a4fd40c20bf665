// A Splatcast session from the client's side: connect with a token, get the avatar's video and speech as a
// MediaStream, drive it with the microphone or with pushed PCM, interrupt, and follow typed events. A dropped
// connection is retried by the reconnect policy and resumes the same session (media kept) when the server still
// holds it; otherwise a new session is opened and media negotiated again.
import {
  type CloseReason,
  closeAction,
  codecLimitsFromServer,
  ErrorCode,
  type KnownServerMessage,
  PROTOCOL_VERSION,
  type ServerLimits,
  type StreamConfig,
} from '@splatcast/proto';
import { SplatcastError } from './errors.js';
import { TypedEmitter } from './events.js';
import type { MediaLink } from './media.js';
import { DefaultReconnectPolicy, type ReconnectPolicy } from './reconnect-policy.js';
import { Signalling, type WebSocketLike } from './signalling.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

export interface ConnectOptions {
  /** ws(s)://host:port/v1/stream */
  url: string;
  /** A session token from your backend (the admin API mints them). */
  token: string;
  /** The identity to show; default: the token's. */
  identityId?: string;
  /** Receive the avatar's video and speech over WebRTC (default: true where RTCPeerConnection exists). */
  media?: boolean;
  /** Only TCP ICE candidates (networks that block UDP). */
  forceTcp?: boolean;
  reconnectPolicy?: ReconnectPolicy;
  requestTimeoutMs?: number;
  /** WebSocket constructor (default: globalThis.WebSocket; the Node entry passes `ws`). */
  WebSocket?: WebSocketLike;
  /** @internal how the media side is made (the Node entry has none without @roamhq/wrtc) */
  createMedia?: (signalling: Signalling, routerRtpCapabilitiesJson: string, forceTcp: boolean) => Promise<MediaLink>;
  platform?: string;
}

export interface Stats {
  fps: number;
  latencyMsP50: number;
  latencyMsP95: number;
  videoBitrateBps: number;
  /** WebSocket round trip, ms. */
  rttMs: number | undefined;
}

export type ClientEvents = {
  /** Connected (again), media negotiated: the video element can play. */
  ready: [];
  speakingStarted: [];
  speakingStopped: [{ durationMs: number }];
  playbackStarted: [{ segmentId: number }];
  playbackFinished: [{ segmentId: number; positionMs: number; interrupted: boolean }];
  stats: [Stats];
  reconnecting: [{ attempt: number; delayMs: number }];
  error: [SplatcastError];
  closed: [{ reason: string; error?: SplatcastError }];
};

const PING_INTERVAL_MS = 5000;

export class AvatarClient extends TypedEmitter<ClientEvents> {
  private signalling: Signalling | undefined;
  private media: MediaLink | undefined;
  private sessionIdValue = '';
  private streamConfig: StreamConfig | undefined;
  private serverLimits: ServerLimits | undefined;
  private segmentId = 0;
  private segmentOpen = false;
  private sequence = 0;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private rtt: number | undefined;
  private micTrack: MediaStreamTrack | undefined;
  private isClosed = false;
  private capabilitiesJson = '';
  private closingReason: { reason: CloseReason; errorCode: ErrorCode; message: string } | undefined;
  private readonly stream: MediaStream | undefined;

  /** Use connect(). */
  constructor(private readonly options: ConnectOptions) {
    super();
    this.stream = typeof MediaStream === 'function' && this.wantsMedia ? new MediaStream() : undefined;
  }

  get sessionId(): string {
    return this.sessionIdValue;
  }

  /** Frame size, fps and lookahead of the stream. */
  get config(): StreamConfig | undefined {
    return this.streamConfig;
  }

  get limits(): ServerLimits | undefined {
    return this.serverLimits;
  }

  /** The avatar's video and speech tracks (stable across reconnects); undefined without media. */
  get mediaStream(): MediaStream | undefined {
    return this.stream;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Shows the avatar in a <video> element (autoplay, inline). */
  attach(video: HTMLVideoElement): void {
    if (!this.stream) throw new SplatcastError(ErrorCode.UNSPECIFIED, 'this client has no media (options.media)');
    video.srcObject = this.stream;
    video.autoplay = true;
    video.playsInline = true;
    void video.play().catch(() => {});
  }

  /** Drives the avatar with a microphone track (default: ask for the user's microphone). */
  async startMicrophone(track?: MediaStreamTrack): Promise<void> {
    if (!this.media) throw new SplatcastError(ErrorCode.UNSPECIFIED, 'no media: the microphone needs WebRTC');
    this.micTrack = track ?? (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks()[0];
    if (!this.micTrack) throw new SplatcastError(ErrorCode.UNSPECIFIED, 'no microphone track');
    await this.media.startMicrophone(this.micTrack);
  }

  async stopMicrophone(): Promise<void> {
    this.micTrack = undefined;
    await this.media?.stopMicrophone();
  }

  /**
   * Queues speech for the avatar: mono PCM at 16, 24 or 48 kHz (Int16, or float in [-1, 1]), any length; chunks
   * pushed one after another form one segment until endSegment(). Returns the segment id.
   */
  pushPcm(pcm: Int16Array | Float32Array, sampleRate: 16000 | 24000 | 48000): number {
    const signalling = this.live();
    if (!(pcm instanceof Int16Array || pcm instanceof Float32Array))
      throw new SplatcastError(ErrorCode.INVALID_ARGUMENT, 'pushPcm: pcm must be an Int16Array or a Float32Array');
    if (!signalling.limits.pcmSampleRates.includes(sampleRate))
      throw new SplatcastError(
        ErrorCode.INVALID_ARGUMENT,
        `pushPcm: sample rate ${sampleRate} Hz is not accepted (the server takes ${signalling.limits.pcmSampleRates.join(', ')} Hz mono; resample first)`,
      );
    // Whole samples per chunk (16-bit), never fewer than one: a server limit below that could never be met.
    const max = signalling.limits.maxPcmChunkBytes & ~1;
    if (max < 2)
      throw new SplatcastError(
        ErrorCode.INVALID_ARGUMENT,
        `pushPcm: the server's PCM chunk limit (${max} B) is too small`,
      );
    if (!this.segmentOpen) {
      this.segmentId = (this.segmentId % 0xffffffff) + 1;
      this.segmentOpen = true;
    }
    const samples = pcm instanceof Int16Array ? pcm : toInt16(pcm);
    const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    for (let at = 0; at < bytes.length; at += max) {
      signalling.notify({
        case: 'pcmChunk',
        value: { sampleRate, data: bytes.slice(at, at + max), sequence: ++this.sequence, segmentId: this.segmentId },
      });
    }
    return this.segmentId;
  }

  /** The current segment is complete: it plays out, then playbackFinished. */
  endSegment(): void {
    if (!this.segmentOpen) return;
    this.segmentOpen = false;
    this.live().notify({ case: 'segmentEnd', value: { segmentId: this.segmentId } });
  }

  /** Stops the speech now (queued audio dropped, mouth closed); playbackFinished {interrupted: true} follows. */
  async interrupt(): Promise<void> {
    this.segmentOpen = false;
    await this.live().request({ case: 'clearBuffer', value: {} });
  }

  /** Receive-side WebRTC statistics (decoded frames etc.). */
  async receiverStats(): Promise<RTCStatsReport | undefined> {
    return this.media?.receiverStats();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.pingTimer);
    this.media?.close();
    this.signalling?.close(1000, 'client closed');
    this.emit('closed', { reason: 'closed by the client' });
  }

  /** @internal connect() calls this once; reconnects call it again with the old session id. */
  async open(resumeSessionId = ''): Promise<void> {
    const o = this.options;
    const Ws = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketLike }).WebSocket;
    if (!Ws) throw new SplatcastError(ErrorCode.UNSPECIFIED, 'no WebSocket here: pass options.WebSocket');
    const signalling = await Signalling.open(
      o.url,
      Ws,
      {
        event: (m) => this.onEvent(m),
        closed: (code, reason, error) => this.onClosed(signalling, code, reason, error),
      },
      o.requestTimeoutMs ?? 10_000,
    );
    this.signalling = signalling;
    const welcome = await signalling.request({
      case: 'hello',
      value: {
        protocolVersion: PROTOCOL_VERSION,
        token: o.token,
        identityId: o.identityId ?? '',
        resumeSessionId,
        client: { sdk: SDK_NAME, sdkVersion: SDK_VERSION, platform: o.platform ?? platform() },
      },
    });
    this.sessionIdValue = welcome.sessionId;
    this.streamConfig = welcome.stream;
    this.serverLimits = welcome.limits;
    if (welcome.limits) signalling.limits = codecLimitsFromServer(welcome.limits);
    this.capabilitiesJson = welcome.routerRtpCapabilitiesJson;
    if (!welcome.resumed || !this.media) await this.negotiateMedia(welcome.routerRtpCapabilitiesJson);
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(), PING_INTERVAL_MS);
    this.emit('ready');
  }

  private get wantsMedia(): boolean {
    return this.options.media ?? typeof RTCPeerConnection === 'function';
  }

  private async negotiateMedia(capabilitiesJson: string): Promise<void> {
    if (!this.wantsMedia || !this.signalling) return;
    this.media?.close();
    const create =
      this.options.createMedia ?? (async (...args) => (await import('./media.js')).MediaLink.create(...args));
    this.media = await create(this.signalling, capabilitiesJson, this.options.forceTcp ?? false);
    // The stream the application attached stays the same object: swap its tracks.
    if (this.stream) {
      for (const track of this.stream.getTracks()) this.stream.removeTrack(track);
      for (const track of this.media.stream.getTracks()) this.stream.addTrack(track);
    }
    if (this.micTrack) await this.media.startMicrophone(this.micTrack);
  }

  private live(): Signalling {
    if (this.isClosed || !this.signalling?.open)
      throw new SplatcastError(ErrorCode.UNSPECIFIED, 'not connected (reconnecting or closed)');
    return this.signalling;
  }

  private ping(): void {
    const signalling = this.signalling;
    if (!signalling?.open) return;
    const sent = Date.now();
    signalling
      .request({ case: 'ping', value: { clientTimeMs: sent } })
      .then(() => {
        this.rtt = Date.now() - sent;
      })
      .catch(() => {});
  }

  private onEvent(message: KnownServerMessage): void {
    const p = message.payload;
    switch (p.case) {
      case 'speakingStarted':
        this.emit('speakingStarted');
        return;
      case 'speakingStopped':
        this.emit('speakingStopped', { durationMs: p.value.durationMs });
        return;
      case 'playbackStarted':
        this.emit('playbackStarted', { segmentId: p.value.segmentId });
        return;
      case 'playbackFinished':
        this.emit('playbackFinished', {
          segmentId: p.value.segmentId,
          positionMs: p.value.positionMs,
          interrupted: p.value.interrupted,
        });
        return;
      case 'stats':
        this.emit('stats', {
          fps: p.value.fps,
          latencyMsP50: p.value.latencyMsP50,
          latencyMsP95: p.value.latencyMsP95,
          videoBitrateBps: p.value.videoBitrateBps,
          rttMs: this.rtt,
        });
        return;
      case 'error':
        this.emit('error', new SplatcastError(p.value.code, p.value.message, p.value.fatal));
        return;
      case 'mediaReset':
        void this.negotiateMedia(this.capabilitiesJson).then(
          () => this.emit('ready'),
          (error) => this.emit('error', asError(error)),
        );
        return;
      case 'closing':
        this.closingReason = { reason: p.value.reason, errorCode: p.value.errorCode, message: p.value.message };
        return;
      default:
        return; // responses without a pending request, and cases only requests get
    }
  }

  private onClosed(signalling: Signalling, code: number, reason: string, error: SplatcastError | undefined): void {
    if (this.signalling !== signalling || this.isClosed) return;
    clearInterval(this.pingTimer);
    const closing = this.closingReason;
    this.closingReason = undefined;
    const action = closing ? closeAction(closing.reason, closing.errorCode) : error ? error.action : 'retry';
    if (action !== 'retry') {
      this.isClosed = true;
      this.media?.close();
      const err =
        error ?? (closing?.errorCode ? new SplatcastError(closing.errorCode, closing.message, true) : undefined);
      this.emit('closed', { reason: closing?.message || reason || `closed (${code})`, ...(err ? { error: err } : {}) });
      return;
    }
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const policy = this.options.reconnectPolicy ?? new DefaultReconnectPolicy();
    const lostAt = Date.now();
    for (let attempt = 0; !this.isClosed; attempt++) {
      const delayMs = policy.nextRetryDelayMs({ attempt, elapsedMs: Date.now() - lostAt });
      if (delayMs === null) break;
      this.emit('reconnecting', { attempt: attempt + 1, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (this.isClosed) return;
      try {
        await this.open(this.sessionIdValue);
        return;
      } catch (error) {
        const e = error as SplatcastError;
        if (e instanceof SplatcastError && e.fatal && e.action !== 'retry') {
          this.isClosed = true;
          this.emit('closed', { reason: e.message, error: e });
          return;
        }
      }
    }
    if (this.isClosed) return;
    this.isClosed = true;
    this.media?.close();
    this.emit('closed', { reason: 'gave up reconnecting' });
  }
}

/** Opens a session: resolves once it is ready (media negotiated when enabled). */
export async function connect(options: ConnectOptions): Promise<AvatarClient> {
  const client = new AvatarClient(options);
  try {
    await client.open();
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

function asError(error: unknown): SplatcastError {
  return error instanceof SplatcastError ? error : new SplatcastError(ErrorCode.UNSPECIFIED, String(error));
}

function toInt16(pcm: Float32Array): Int16Array {
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = Math.round(Math.max(-1, Math.min(1, pcm[i] as number)) * 32767);
  return out;
}

function platform(): string {
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  if (nav?.userAgent) return nav.userAgent.slice(0, 200);
  const proc = (globalThis as { process?: { version?: string } }).process;
  return proc?.version ? `node ${proc.version}` : 'unknown';
}
