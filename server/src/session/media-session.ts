// One session's media on its mediasoup router: the client's WebRTC transports, its microphone producer (consumed
// into the engine through a DirectTransport), and the avatar's video and speech (produced on that DirectTransport and
// consumed by the client). Close cascades: closing the DirectTransport closes the avatar producers and the mic
// consumer; closing a WebRtcTransport closes what was produced and consumed on it.
import { ErrorCode, MediaKind, TransportDirection } from '@splatcast/proto';
import type { types } from 'mediasoup';
import type { StreamingConfig } from '../config.js';
import type { EncodedEngineFrame, VideoCodec } from '../engine/protocol.js';
import { EnhancedEventEmitter } from '../enhanced-events.js';
import { Logger } from '../logger.js';
import { AvatarStream } from '../media/avatar-stream.js';
import { type AudioSink, MicrophoneInput } from '../media/microphone-input.js';
import type { MediaSlot } from '../sfu/media-worker-pool.js';
import { SessionError } from './session-error.js';

const logger = new Logger('MediaSession');

export interface TransportInfo {
  transportId: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

export type MediaSessionEvents = {
  /** The avatar stream exists (first consume): the engine must encode with this codec. */
  codec: [VideoCodec];
  keyframeRequest: [];
  /** The congestion controller's estimate for the avatar's transport, bits per second. */
  availableBitrate: [number];
  sent: [EncodedEngineFrame, number];
};

type MediaConfig = StreamingConfig['media'];

export class MediaSession extends EnhancedEventEmitter<MediaSessionEvents> {
  private readonly transports = new Map<string, { transport: types.WebRtcTransport; direction: TransportDirection }>();
  private readonly consumers = new Map<string, types.Consumer>();
  private readonly mics = new Map<string, { producer: types.Producer; input: MicrophoneInput }>();
  private avatar: AvatarStream | undefined;
  private avatarPending: Promise<AvatarStream> | undefined;
  private isClosed = false;

  static async create(slot: MediaSlot, config: MediaConfig, mic: AudioSink, sessionId: string): Promise<MediaSession> {
    const router = slot.router;
    if (!router || router.closed)
      throw new SessionError(ErrorCode.ENGINE_UNAVAILABLE, 'the media worker is restarting');
    const direct = await router.createDirectTransport({ appData: { sessionId } });
    return new MediaSession(slot, router, direct, config, mic);
  }

  private constructor(
    readonly slot: MediaSlot,
    private readonly router: types.Router,
    private readonly direct: types.DirectTransport,
    private readonly config: MediaConfig,
    private readonly mic: AudioSink,
  ) {
    super();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  get avatarStream(): AvatarStream | undefined {
    return this.avatar;
  }

  /** Counts for leak checks and stats. */
  get counts(): { transports: number; consumers: number; microphones: number } {
    return { transports: this.transports.size, consumers: this.consumers.size, microphones: this.mics.size };
  }

  get microphoneActive(): boolean {
    return this.mics.size > 0;
  }

  async createWebRtcTransport(direction: TransportDirection, forceTcp: boolean): Promise<TransportInfo> {
    this.open();
    const c = this.config;
    const portRange = { min: c.rtcMinPort, max: c.rtcMaxPort };
    const base = { ip: c.listenIp, portRange, ...(c.announcedAddress ? { announcedAddress: c.announcedAddress } : {}) };
    const listenInfos: types.TransportListenInfo[] = [];
    if (!forceTcp) listenInfos.push({ ...base, protocol: 'udp' });
    if (forceTcp || c.enableTcp) listenInfos.push({ ...base, protocol: 'tcp' });
    let transport: types.WebRtcTransport;
    try {
      transport = await this.router.createWebRtcTransport({
        listenInfos,
        preferUdp: !forceTcp,
        initialAvailableOutgoingBitrate: c.startBitrateBps,
        appData: { direction },
      });
    } catch (error) {
      throw new SessionError(ErrorCode.INTERNAL, `cannot create a WebRTC transport: ${(error as Error).message}`);
    }
    if (this.isClosed) {
      transport.close();
      throw new SessionError(ErrorCode.TRANSPORT_NOT_FOUND, 'the session closed');
    }
    this.transports.set(transport.id, { transport, direction });
    transport.observer.once('close', () => this.transports.delete(transport.id));
    if (direction === TransportDirection.RECV) {
      await transport.enableTraceEvent(['bwe']);
      transport.on('trace', (trace) => {
        const available = (trace.info as { availableBitrate?: number }).availableBitrate;
        if (trace.type === 'bwe' && typeof available === 'number') this.safeEmit('availableBitrate', available);
      });
    }
    return {
      transportId: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport(id: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const { transport } = this.transport(id);
    if (transport.dtlsState !== 'new')
      throw new SessionError(ErrorCode.UNEXPECTED_MESSAGE, `transport ${id} is connected already`);
    try {
      await transport.connect({ dtlsParameters });
    } catch (error) {
      throw new SessionError(ErrorCode.MEDIA_NEGOTIATION_FAILED, `connect: ${(error as Error).message}`);
    }
  }

  async restartIce(id: string): Promise<types.IceParameters> {
    return this.transport(id).transport.restartIce();
  }

  /** The client's microphone: only audio, on a send transport. */
  async produce(transportId: string, kind: MediaKind, rtpParameters: types.RtpParameters): Promise<string> {
    const { transport, direction } = this.transport(transportId);
    if (direction !== TransportDirection.SEND)
      throw new SessionError(ErrorCode.UNEXPECTED_MESSAGE, `transport ${transportId} receives; produce on a send one`);
    if (kind !== MediaKind.AUDIO)
      throw new SessionError(ErrorCode.INVALID_ARGUMENT, 'only audio (a microphone) can be produced');
    if (this.mics.size > 0) throw new SessionError(ErrorCode.UNEXPECTED_MESSAGE, 'a microphone is produced already');
    let producer: types.Producer;
    try {
      producer = await transport.produce({ kind: 'audio', rtpParameters });
    } catch (error) {
      throw new SessionError(ErrorCode.MEDIA_NEGOTIATION_FAILED, `produce: ${(error as Error).message}`);
    }
    let consumer: types.Consumer;
    try {
      consumer = await this.direct.consume({ producerId: producer.id, rtpCapabilities: this.router.rtpCapabilities });
    } catch (error) {
      producer.close();
      throw new SessionError(ErrorCode.INTERNAL, `cannot receive the microphone: ${(error as Error).message}`);
    }
    const input = new MicrophoneInput(consumer, this.mic);
    this.mics.set(producer.id, { producer, input });
    producer.observer.once('close', () => {
      input.close();
      this.mics.delete(producer.id);
    });
    return producer.id;
  }

  closeProducer(id: string): void {
    const mic = this.mics.get(id);
    if (!mic) throw new SessionError(ErrorCode.PRODUCER_NOT_FOUND, `no producer ${id} in this session`);
    mic.producer.close();
  }

  /** The avatar's video or speech on a receive transport; starts paused until resumeConsumer. */
  async consume(
    transportId: string,
    kind: MediaKind,
    rtpCapabilities: types.RtpCapabilities,
  ): Promise<{ consumer: types.Consumer; producerId: string }> {
    const { transport, direction } = this.transport(transportId);
    if (direction !== TransportDirection.RECV)
      throw new SessionError(ErrorCode.UNEXPECTED_MESSAGE, `transport ${transportId} sends; consume on a receive one`);
    const avatar = await this.ensureAvatar(rtpCapabilities);
    const producer = kind === MediaKind.VIDEO ? avatar.videoProducer : avatar.audioProducer;
    if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities }))
      throw new SessionError(
        ErrorCode.MEDIA_NEGOTIATION_FAILED,
        `the device cannot decode the avatar's ${producer.kind}`,
      );
    let consumer: types.Consumer;
    try {
      consumer = await transport.consume({ producerId: producer.id, rtpCapabilities, paused: true });
    } catch (error) {
      throw new SessionError(ErrorCode.MEDIA_NEGOTIATION_FAILED, `consume: ${(error as Error).message}`);
    }
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
    return { consumer, producerId: producer.id };
  }

  async resumeConsumer(id: string): Promise<void> {
    const consumer = this.consumers.get(id);
    if (!consumer) throw new SessionError(ErrorCode.CONSUMER_NOT_FOUND, `no consumer ${id} in this session`);
    await consumer.resume();
    if (consumer.kind === 'video') this.safeEmit('keyframeRequest');
  }

  sendFrame(frame: EncodedEngineFrame): void {
    this.avatar?.send(frame);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const { input } of this.mics.values()) input.close();
    this.mics.clear();
    this.avatar?.close();
    for (const { transport } of this.transports.values()) transport.close();
    this.transports.clear();
    this.consumers.clear();
    this.direct.close();
  }

  private open(): void {
    if (this.isClosed) throw new SessionError(ErrorCode.TRANSPORT_NOT_FOUND, 'the media of this session is gone');
  }

  private transport(id: string): { transport: types.WebRtcTransport; direction: TransportDirection } {
    this.open();
    const entry = this.transports.get(id);
    if (!entry || entry.transport.closed)
      throw new SessionError(ErrorCode.TRANSPORT_NOT_FOUND, `no transport ${id} in this session`);
    return entry;
  }

  private ensureAvatar(capabilities: types.RtpCapabilities): Promise<AvatarStream> {
    if (this.avatar) return Promise.resolve(this.avatar);
    this.avatarPending ??= (async () => {
      const decodable = (codec: VideoCodec) =>
        (capabilities.codecs ?? []).some((c) => c.mimeType.toLowerCase() === `video/${codec}`);
      const codec = this.config.videoCodecs.find(decodable);
      if (!codec)
        throw new SessionError(ErrorCode.MEDIA_NEGOTIATION_FAILED, 'the device decodes neither VP8 nor H.264');
      const avatar = await AvatarStream.create(this.direct, codec);
      if (this.isClosed) {
        avatar.close();
        throw new SessionError(ErrorCode.TRANSPORT_NOT_FOUND, 'the session closed');
      }
      avatar.on('keyframeRequest', () => this.safeEmit('keyframeRequest'));
      avatar.on('sent', (frame, at) => this.safeEmit('sent', frame, at));
      this.avatar = avatar;
      logger.debug('avatar stream %s on router %s', codec, this.router.id);
      this.safeEmit('codec', codec);
      return avatar;
    })();
    this.avatarPending.catch(() => {
      this.avatarPending = undefined;
    });
    return this.avatarPending;
  }
}
