// Public surface of @splatcast/proto: the generated splatcast.v1 messages and the codec that validates them.

export type { Check, Failure } from './checks.js';
export {
  type ClientMessageInit,
  type Decoded,
  decodeClientMessage,
  decodeServerMessage,
  type Encoded,
  encodeClientMessage,
  encodeServerMessage,
  type Frame,
  type ServerMessageInit,
} from './codec.js';
export {
  type ClientCase,
  type ClientPayload,
  isRequestCase,
  isResponseCase,
  type KnownClientMessage,
  type KnownServerMessage,
  RESPONSE_CASE,
  type RequestCase,
  type ResponseTo,
  type ServerCase,
  type ServerPayload,
} from './envelope.js';
export {
  CLOSE_CODE_BASE,
  type ClientAction,
  closeAction,
  closeCodeForError,
  errorAction,
  errorForCloseCode,
  type ProtocolError,
} from './errors.js';
export * from './gen/splatcast/v1/audio_pb.js';
export * from './gen/splatcast/v1/envelope_pb.js';
export * from './gen/splatcast/v1/errors_pb.js';
export * from './gen/splatcast/v1/media_pb.js';
export * from './gen/splatcast/v1/session_pb.js';
export {
  type CodecLimits,
  codecLimitsFromServer,
  DEFAULT_CODEC_LIMITS,
  MAX_ID_LENGTH,
  MAX_JSON_FIELD_LENGTH,
  MAX_TEXT_LENGTH,
  MAX_TOKEN_LENGTH,
  PCM_SAMPLE_RATES,
} from './limits.js';
export {
  MIN_PROTOCOL_VERSION,
  negotiateProtocolVersion,
  PROTOCOL_VERSION,
  type VersionNegotiation,
  WS_SUBPROTOCOL,
} from './version.js';
