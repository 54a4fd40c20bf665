import { create, toBinary } from '@bufbuild/protobuf';
import t from 'tap';
import {
  type ClientCase,
  type ClientInfo,
  type ClientMessage,
  ClientMessageSchema,
  type ClientPayload,
  type CloseReason,
  type CodecLimits,
  DEFAULT_CODEC_LIMITS,
  decodeClientMessage,
  decodeServerMessage,
  ErrorCode,
  encodeClientMessage,
  encodeServerMessage,
  MAX_ID_LENGTH,
  MAX_JSON_FIELD_LENGTH,
  MAX_TEXT_LENGTH,
  MAX_TOKEN_LENGTH,
  MediaKind,
  type ServerCase,
  type ServerLimits,
  type ServerMessage,
  ServerMessageSchema,
  type ServerPayload,
  type StreamConfig,
  TransportDirection,
} from '../src/index.js';
import { clientExamples, serverExamples } from './fixtures.js';

const { INVALID_ARGUMENT, MESSAGE_TOO_LARGE, UNSUPPORTED_PROTOCOL_VERSION } = ErrorCode;
const long = (n: number) => 'x'.repeat(n);

function client<C extends ClientCase>(c: C, edit: (v: ClientPayload<C>, m: ClientMessage) => void): ClientMessage {
  const message = create(ClientMessageSchema, clientExamples[c]);
  edit(message.payload.value as ClientPayload<C>, message);
  return message;
}

function server<C extends ServerCase>(c: C, edit: (v: ServerPayload<C>, m: ServerMessage) => void): ServerMessage {
  const message = create(ServerMessageSchema, serverExamples[c]);
  edit(message.payload.value as ServerPayload<C>, message);
  return message;
}

const welcomeLimits = (edit: Partial<ServerLimits>) => server('welcome', (v) => Object.assign(v.limits ?? {}, edit));
const welcomeStream = (edit: Partial<StreamConfig>) => server('welcome', (v) => Object.assign(v.stream ?? {}, edit));
const helloClient = (edit: Partial<ClientInfo>) => client('hello', (v) => Object.assign(v.client ?? {}, edit));

// [what, message, expected code (undefined: accepted), limits]
const clientCases: [string, ClientMessage, ErrorCode | undefined, CodecLimits?][] = [
  ['hello without version', client('hello', (v) => (v.protocolVersion = 0)), UNSUPPORTED_PROTOCOL_VERSION],
  ['hello without token', client('hello', (v) => (v.token = '')), INVALID_ARGUMENT],
  ['hello with a huge token', client('hello', (v) => (v.token = long(MAX_TOKEN_LENGTH + 1))), INVALID_ARGUMENT],
  ['hello with a long sdk name', helloClient({ sdk: long(MAX_TEXT_LENGTH + 1) }), INVALID_ARGUMENT],
  ['hello without client info', client('hello', (v) => (v.client = undefined)), undefined],
  [
    'hello for a new session as the token grants',
    client('hello', (v) => Object.assign(v, { identityId: '', resumeSessionId: '' })),
    undefined,
  ],
  ['hello with a long identity', client('hello', (v) => (v.identityId = long(MAX_ID_LENGTH + 1))), INVALID_ARGUMENT],
  ['hello with the longest identity', client('hello', (v) => (v.identityId = long(MAX_ID_LENGTH))), undefined],
  ['hello without request id', client('hello', (_v, m) => (m.requestId = 0)), INVALID_ARGUMENT],
  ['ping at NaN', client('ping', (v) => (v.clientTimeMs = Number.NaN)), INVALID_ARGUMENT],
  [
    'transport without direction',
    client('createWebrtcTransport', (v) => (v.direction = TransportDirection.UNSPECIFIED)),
    INVALID_ARGUMENT,
  ],
  [
    'transport with a future direction',
    client('createWebrtcTransport', (v) => (v.direction = 7 as TransportDirection)),
    INVALID_ARGUMENT,
  ],
  ['connect without transport id', client('connectTransport', (v) => (v.transportId = '')), INVALID_ARGUMENT],
  [
    'connect with DTLS not JSON',
    client('connectTransport', (v) => (v.dtlsParametersJson = '{role:')),
    INVALID_ARGUMENT,
  ],
  ['connect with DTLS an array', client('connectTransport', (v) => (v.dtlsParametersJson = '[]')), INVALID_ARGUMENT],
  ['connect with DTLS null', client('connectTransport', (v) => (v.dtlsParametersJson = 'null')), INVALID_ARGUMENT],
  ['produce without kind', client('produce', (v) => (v.kind = MediaKind.UNSPECIFIED)), INVALID_ARGUMENT],
  ['produce with appData an array', client('produce', (v) => (v.appDataJson = '[1]')), INVALID_ARGUMENT],
  ['produce without appData', client('produce', (v) => (v.appDataJson = '')), undefined],
  [
    'produce with huge RTP parameters',
    client('produce', (v) => (v.rtpParametersJson = `"${long(MAX_JSON_FIELD_LENGTH)}"`)),
    INVALID_ARGUMENT,
  ],
  ['produce without RTP parameters', client('produce', (v) => (v.rtpParametersJson = '')), INVALID_ARGUMENT],
  ['close without producer id', client('closeProducer', (v) => (v.producerId = '')), INVALID_ARGUMENT],
  ['consume with capabilities a string', client('consume', (v) => (v.rtpCapabilitiesJson = '"vp8"')), INVALID_ARGUMENT],
  [
    'resume with a long consumer id',
    client('resumeConsumer', (v) => (v.consumerId = long(MAX_ID_LENGTH + 1))),
    INVALID_ARGUMENT,
  ],
  ['restart ICE without transport id', client('restartIce', (v) => (v.transportId = '')), INVALID_ARGUMENT],
  ['PCM at 44.1 kHz', client('pcmChunk', (v) => (v.sampleRate = 44100)), INVALID_ARGUMENT],
  ['PCM with an odd byte count', client('pcmChunk', (v) => (v.data = new Uint8Array(3))), INVALID_ARGUMENT],
  ['PCM with no bytes', client('pcmChunk', (v) => (v.data = new Uint8Array(0))), INVALID_ARGUMENT],
  [
    'PCM over the limit',
    client('pcmChunk', (v) => (v.data = new Uint8Array(DEFAULT_CODEC_LIMITS.maxPcmChunkBytes + 2))),
    MESSAGE_TOO_LARGE,
  ],
  [
    'PCM at the limit',
    client('pcmChunk', (v) => (v.data = new Uint8Array(DEFAULT_CODEC_LIMITS.maxPcmChunkBytes))),
    undefined,
  ],
  [
    'PCM over a configured limit',
    client('pcmChunk', () => {}),
    MESSAGE_TOO_LARGE,
    { ...DEFAULT_CODEC_LIMITS, maxPcmChunkBytes: 2 },
  ],
  [
    'PCM at a rate the server disabled',
    client('pcmChunk', () => {}),
    INVALID_ARGUMENT,
    { ...DEFAULT_CODEC_LIMITS, pcmSampleRates: [16000] },
  ],
  ['PCM without segment', client('pcmChunk', (v) => (v.segmentId = 0)), INVALID_ARGUMENT],
  ['PCM with a request id', client('pcmChunk', (_v, m) => (m.requestId = 12)), undefined],
  ['segment end without segment', client('segmentEnd', (v) => (v.segmentId = 0)), INVALID_ARGUMENT],
  ['clear buffer without request id', client('clearBuffer', (_v, m) => (m.requestId = 0)), INVALID_ARGUMENT],
];

const serverCases: [string, ServerMessage, ErrorCode | undefined][] = [
  ['welcome without session id', server('welcome', (v) => (v.sessionId = '')), INVALID_ARGUMENT],
  ['welcome without version', server('welcome', (v) => (v.protocolVersion = 0)), INVALID_ARGUMENT],
  ['welcome without limits', server('welcome', (v) => (v.limits = undefined)), INVALID_ARGUMENT],
  ['welcome without stream', server('welcome', (v) => (v.stream = undefined)), INVALID_ARGUMENT],
  ['welcome with max message 0', welcomeLimits({ maxMessageBytes: 0 }), INVALID_ARGUMENT],
  ['welcome with max PCM 0', welcomeLimits({ maxPcmChunkBytes: 0 }), INVALID_ARGUMENT],
  ['welcome without sample rates', welcomeLimits({ pcmSampleRates: [] }), INVALID_ARGUMENT],
  ['welcome at 0 fps', welcomeStream({ fps: 0 }), INVALID_ARGUMENT],
  ['welcome 0 wide', welcomeStream({ frameWidth: 0 }), INVALID_ARGUMENT],
  ['welcome 0 high', welcomeStream({ frameHeight: 0 }), INVALID_ARGUMENT],
  ['welcome without capabilities', server('welcome', (v) => (v.routerRtpCapabilitiesJson = '')), INVALID_ARGUMENT],
  ['welcome without request id', server('welcome', (_v, m) => (m.requestId = 0)), INVALID_ARGUMENT],
  ['pong at infinity', server('pong', (v) => (v.serverTimeMs = Number.POSITIVE_INFINITY)), INVALID_ARGUMENT],
  ['error without code', server('error', (v) => (v.code = ErrorCode.UNSPECIFIED)), INVALID_ARGUMENT],
  ['error with a code from a newer server', server('error', (v) => (v.code = 999 as ErrorCode)), undefined],
  ['error with a long message', server('error', (v) => (v.message = long(MAX_TEXT_LENGTH + 1))), INVALID_ARGUMENT],
  ['session error without request id', server('error', (_v, m) => (m.requestId = 0)), undefined],
  ['closing without reason', server('closing', (v) => (v.reason = 0)), INVALID_ARGUMENT],
  ['closing for a reason from a newer server', server('closing', (v) => (v.reason = 99 as CloseReason)), undefined],
  [
    'transport with candidates an object',
    server('webrtcTransportCreated', (v) => (v.iceCandidatesJson = '{}')),
    INVALID_ARGUMENT,
  ],
  ['transport without ICE servers', server('webrtcTransportCreated', (v) => (v.iceServersJson = '')), undefined],
  ['produced without id', server('produced', (v) => (v.producerId = '')), INVALID_ARGUMENT],
  ['consumed without kind', server('consumed', (v) => (v.kind = MediaKind.UNSPECIFIED)), INVALID_ARGUMENT],
  ['consumed without producer', server('consumed', (v) => (v.producerId = '')), INVALID_ARGUMENT],
  ['ICE restart with bad JSON', server('iceRestarted', (v) => (v.iceParametersJson = '{')), INVALID_ARGUMENT],
  [
    'media reset with a long reason',
    server('mediaReset', (v) => (v.reason = long(MAX_TEXT_LENGTH + 1))),
    INVALID_ARGUMENT,
  ],
  ['playback started without segment', server('playbackStarted', (v) => (v.segmentId = 0)), INVALID_ARGUMENT],
  ['playback finished without segment', server('playbackFinished', (v) => (v.segmentId = 0)), INVALID_ARGUMENT],
  ['stats at NaN fps', server('stats', (v) => (v.fps = Number.NaN)), INVALID_ARGUMENT],
];

t.test('client messages: encode refuses and decode reports the same typed error', async (t) => {
  for (const [what, message, code, limits] of clientCases) {
    const encoded = encodeClientMessage(message, limits);
    const decoded = decodeClientMessage(toBinary(ClientMessageSchema, message), limits);
    if (code === undefined) {
      t.equal(encoded.kind, 'bytes', `${what}: encoded`);
      t.equal(decoded.kind, 'message', `${what}: decoded`);
      continue;
    }
    t.match(encoded, { kind: 'error', error: { code, requestId: message.requestId } }, `${what}: encode`);
    t.match(decoded, { kind: 'error', error: { code, requestId: message.requestId, message: /./ } }, `${what}: decode`);
  }
});

t.test('server messages: encode refuses and decode reports the same typed error', async (t) => {
  for (const [what, message, code] of serverCases) {
    const encoded = encodeServerMessage(message);
    const decoded = decodeServerMessage(toBinary(ServerMessageSchema, message));
    if (code === undefined) {
      t.equal(encoded.kind, 'bytes', `${what}: encoded`);
      t.equal(decoded.kind, 'message', `${what}: decoded`);
      continue;
    }
    t.match(encoded, { kind: 'error', error: { code, requestId: message.requestId } }, `${what}: encode`);
    t.match(decoded, { kind: 'error', error: { code, requestId: message.requestId, message: /./ } }, `${what}: decode`);
  }
});

t.test('the error names the field', async (t) => {
  const decoded = decodeClientMessage(
    toBinary(
      ClientMessageSchema,
      client('pcmChunk', (v) => (v.sampleRate = 8000)),
    ),
  );
  t.match(decoded, {
    kind: 'error',
    error: { message: /pcm_chunk\.sample_rate is 8000, expected one of 16000, 24000, 48000/ },
  });
});

t.test('encode refuses what it cannot encode, without throwing', async (t) => {
  t.match(encodeClientMessage({ requestId: 1 }), {
    kind: 'error',
    error: { code: INVALID_ARGUMENT, message: /no payload/ },
  });
  const negative = { ...clientExamples.ping, requestId: -1 };
  t.match(encodeClientMessage(negative), { kind: 'error', error: { code: INVALID_ARGUMENT, message: /uint32/ } });
  const wrongType = { requestId: 1, payload: { case: 'ping', value: { clientTimeMs: 'soon' } } } as never;
  t.match(encodeClientMessage(wrongType), { kind: 'error', error: { code: INVALID_ARGUMENT } });
  const small = { ...DEFAULT_CODEC_LIMITS, maxMessageBytes: 16 };
  t.match(encodeServerMessage(serverExamples.welcome, small), {
    kind: 'error',
    error: { code: MESSAGE_TOO_LARGE, requestId: 1 },
  });
});
