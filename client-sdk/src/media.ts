// The session's WebRTC side through mediasoup-client: a receive transport with the avatar's video and speech
// consumed into one MediaStream, and (on demand) a send transport with the microphone. `close` tears both down;
// after the server's MediaReset or a new session, the client makes a fresh MediaLink.
import { MediaKind, TransportDirection } from '@splatcast/proto';
import { Device, type types } from 'mediasoup-client';
import type { Signalling } from './signalling.js';

export class MediaLink {
  readonly stream: MediaStream;
  private recv: types.Transport | undefined;
  private send: types.Transport | undefined;
  private mic: types.Producer | undefined;
  private readonly consumers: types.Consumer[] = [];

  private constructor(
    private readonly signalling: Signalling,
    private readonly device: Device,
    private readonly forceTcp: boolean,
  ) {
    this.stream = new MediaStream();
  }

  /** `handlerName`: mediasoup-client's handler, where it cannot tell from a browser's user agent (Node + wrtc). */
  static async create(
    signalling: Signalling,
    routerRtpCapabilitiesJson: string,
    forceTcp: boolean,
    handlerName?: types.BuiltinHandlerName,
  ): Promise<MediaLink> {
    const device = await Device.factory(handlerName ? { handlerName } : {});
    await device.load({ routerRtpCapabilities: JSON.parse(routerRtpCapabilitiesJson) });
    const link = new MediaLink(signalling, device, forceTcp);
    await link.receive();
    return link;
  }

  /** The avatar's video and speech into `stream`. */
  private async receive(): Promise<void> {
    this.recv = await this.transport(TransportDirection.RECV);
    for (const kind of [MediaKind.VIDEO, MediaKind.AUDIO]) {
      const consumed = await this.signalling.request({
        case: 'consume',
        value: {
          transportId: this.recv.id,
          kind,
          rtpCapabilitiesJson: JSON.stringify(this.device.rtpCapabilities),
        },
      });
      const consumer = await this.recv.consume({
        id: consumed.consumerId,
        producerId: consumed.producerId,
        kind: kind === MediaKind.VIDEO ? 'video' : 'audio',
        rtpParameters: JSON.parse(consumed.rtpParametersJson),
      });
      this.consumers.push(consumer);
      this.stream.addTrack(consumer.track);
      await this.signalling.request({ case: 'resumeConsumer', value: { consumerId: consumer.id } });
    }
  }

  /** The RTCPeerConnection's stats of the receive side (frames decoded, jitter, …). */
  async receiverStats(): Promise<RTCStatsReport | undefined> {
    return this.recv?.getStats();
  }

  async startMicrophone(track: MediaStreamTrack): Promise<void> {
    if (this.mic) await this.stopMicrophone();
    this.send ??= await this.transport(TransportDirection.SEND);
    this.mic = await this.send.produce({ track, codecOptions: { opusDtx: false, opusFec: true } });
  }

  async stopMicrophone(): Promise<void> {
    const mic = this.mic;
    if (!mic) return;
    this.mic = undefined;
    mic.close();
    await this.signalling.request({ case: 'closeProducer', value: { producerId: mic.id } }).catch(() => {});
  }

  close(): void {
    this.mic?.close();
    for (const consumer of this.consumers) consumer.close();
    this.recv?.close();
    this.send?.close();
  }

  private async transport(direction: TransportDirection): Promise<types.Transport> {
    const created = await this.signalling.request({
      case: 'createWebrtcTransport',
      value: { direction, forceTcp: this.forceTcp },
    });
    const options = {
      id: created.transportId,
      iceParameters: JSON.parse(created.iceParametersJson),
      iceCandidates: JSON.parse(created.iceCandidatesJson),
      dtlsParameters: JSON.parse(created.dtlsParametersJson),
      ...(created.iceServersJson ? { iceServers: JSON.parse(created.iceServersJson) } : {}),
      ...(created.relayOnly ? { iceTransportPolicy: 'relay' as const } : {}),
    };
    const transport =
      direction === TransportDirection.RECV
        ? this.device.createRecvTransport(options)
        : this.device.createSendTransport(options);
    transport.on('connect', ({ dtlsParameters }, ok, fail) => {
      this.signalling
        .request({
          case: 'connectTransport',
          value: { transportId: transport.id, dtlsParametersJson: JSON.stringify(dtlsParameters) },
        })
        .then(() => ok(), fail);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
      this.signalling
        .request({
          case: 'produce',
          value: {
            transportId: transport.id,
            kind: kind === 'audio' ? MediaKind.AUDIO : MediaKind.VIDEO,
            rtpParametersJson: JSON.stringify(rtpParameters),
            appDataJson: JSON.stringify(appData ?? {}),
          },
        })
        .then(({ producerId }) => ok({ id: producerId }), fail);
    });
    return transport;
  }
}
