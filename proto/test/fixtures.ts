// One valid example of every payload case of both envelopes; test/round-trip.test.ts checks none is missing.
import {
  type ClientCase,
  type ClientMessageInit,
  CloseReason,
  ErrorCode,
  MediaKind,
  PROTOCOL_VERSION,
  type ServerCase,
  type ServerMessageInit,
  TransportDirection,
} from '../src/index.js';

const rtpParameters = JSON.stringify({
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {} }],
  encodings: [{ ssrc: 4294967295 }],
  rtcp: { cname: 'x', reducedSize: true },
});
const dtlsParameters = JSON.stringify({ role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] });
const iceParameters = JSON.stringify({ usernameFragment: 'u', password: 'p', iceLite: true });
const rtpCapabilities = JSON.stringify({ codecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] });

export const clientExamples: Record<ClientCase, ClientMessageInit> = {
  hello: {
    requestId: 1,
    payload: {
      case: 'hello',
      value: {
        protocolVersion: PROTOCOL_VERSION,
        token: 'tok_abc',
        client: { sdk: '@splatcast/client-sdk', sdkVersion: '0.1.0', platform: 'node 20' },
        identityId: 'alice',
        resumeSessionId: 'sess-1',
      },
    },
  },
  ping: { requestId: 2, payload: { case: 'ping', value: { clientTimeMs: 1234.5 } } },
  createWebrtcTransport: {
    requestId: 3,
    payload: { case: 'createWebrtcTransport', value: { direction: TransportDirection.RECV, forceTcp: true } },
  },
  connectTransport: {
    requestId: 4,
    payload: { case: 'connectTransport', value: { transportId: 't1', dtlsParametersJson: dtlsParameters } },
  },
  produce: {
    requestId: 5,
    payload: {
      case: 'produce',
      value: {
        transportId: 't0',
        kind: MediaKind.AUDIO,
        rtpParametersJson: rtpParameters,
        appDataJson: '{"source":"mic"}',
      },
    },
  },
  closeProducer: { requestId: 6, payload: { case: 'closeProducer', value: { producerId: 'p1' } } },
  consume: {
    requestId: 7,
    payload: {
      case: 'consume',
      value: { transportId: 't1', kind: MediaKind.VIDEO, rtpCapabilitiesJson: rtpCapabilities },
    },
  },
  resumeConsumer: { requestId: 8, payload: { case: 'resumeConsumer', value: { consumerId: 'c1' } } },
  restartIce: { requestId: 9, payload: { case: 'restartIce', value: { transportId: 't1' } } },
  pcmChunk: {
    payload: {
      case: 'pcmChunk',
      value: { sampleRate: 24000, data: new Uint8Array([1, 0, 255, 127]), sequence: 42, segmentId: 3 },
    },
  },
  segmentEnd: { payload: { case: 'segmentEnd', value: { segmentId: 3 } } },
  clearBuffer: { requestId: 10, payload: { case: 'clearBuffer', value: {} } },
};

export const serverExamples: Record<ServerCase, ServerMessageInit> = {
  welcome: {
    requestId: 1,
    payload: {
      case: 'welcome',
      value: {
        sessionId: 'sess-1',
        protocolVersion: PROTOCOL_VERSION,
        resumed: true,
        limits: {
          maxMessageBytes: 131072,
          maxPcmChunkBytes: 65536,
          pcmSampleRates: [16000, 24000, 48000],
          maxPcmBufferedMs: 30000,
          maxMessagesPerSecond: 200,
          idleTimeoutMs: 60000,
          maxSessionMs: 3600000,
        },
        stream: { lookaheadMs: 80, frameWidth: 512, frameHeight: 512, fps: 25 },
        routerRtpCapabilitiesJson: rtpCapabilities,
      },
    },
  },
  pong: { requestId: 2, payload: { case: 'pong', value: { clientTimeMs: 1234.5, serverTimeMs: 1.7e12 } } },
  error: {
    requestId: 5,
    payload: {
      case: 'error',
      value: { code: ErrorCode.MEDIA_NEGOTIATION_FAILED, message: 'no shared codec', fatal: false },
    },
  },
  closing: {
    payload: {
      case: 'closing',
      value: { reason: CloseReason.ERROR, message: 'engine lost', errorCode: ErrorCode.ENGINE_UNAVAILABLE },
    },
  },
  ack: { requestId: 4, payload: { case: 'ack', value: {} } },
  webrtcTransportCreated: {
    requestId: 3,
    payload: {
      case: 'webrtcTransportCreated',
      value: {
        transportId: 't1',
        iceParametersJson: iceParameters,
        iceCandidatesJson: '[{"foundation":"udpcandidate","ip":"127.0.0.1","port":40000,"protocol":"udp"}]',
        dtlsParametersJson: dtlsParameters,
        iceServersJson: '[{"urls":"turn:turn.example:3478","username":"u","credential":"c"}]',
        relayOnly: true,
      },
    },
  },
  produced: { requestId: 5, payload: { case: 'produced', value: { producerId: 'p1' } } },
  consumed: {
    requestId: 7,
    payload: {
      case: 'consumed',
      value: { consumerId: 'c1', producerId: 'avatar-video', kind: MediaKind.VIDEO, rtpParametersJson: rtpParameters },
    },
  },
  iceRestarted: { requestId: 9, payload: { case: 'iceRestarted', value: { iceParametersJson: iceParameters } } },
  mediaReset: { payload: { case: 'mediaReset', value: { reason: 'media worker restarted' } } },
  playbackStarted: { payload: { case: 'playbackStarted', value: { segmentId: 3 } } },
  playbackFinished: {
    payload: { case: 'playbackFinished', value: { segmentId: 3, positionMs: 1520, interrupted: true } },
  },
  speakingStarted: { payload: { case: 'speakingStarted', value: {} } },
  speakingStopped: { payload: { case: 'speakingStopped', value: { durationMs: 1520 } } },
  stats: {
    payload: {
      case: 'stats',
      value: { fps: 25, latencyMsP50: 70, latencyMsP95: 95, videoBitrateBps: 1_500_000, windowMs: 5000 },
    },
  },
};
