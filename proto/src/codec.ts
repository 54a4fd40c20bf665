import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import type { GenMessage } from '@bufbuild/protobuf/codegenv2';
import type { Check, Failure } from './checks.js';
import type { Known, KnownClientMessage, KnownServerMessage } from './envelope.js';
import type { ProtocolError } from './errors.js';
import {
  type ClientMessage,
  ClientMessageSchema,
  type ServerMessage,
  ServerMessageSchema,
} from './gen/splatcast/v1/envelope_pb.js';
import { ErrorCode } from './gen/splatcast/v1/errors_pb.js';
import { type CodecLimits, DEFAULT_CODEC_LIMITS } from './limits.js';
import { checkClientMessage } from './validate-client.js';
import { checkServerMessage } from './validate-server.js';

/**
 * What a received frame turned out to be. `unknown`: a payload case this package does not know (a newer peer);
 * the caller logs it and ignores it. `error`: refused; reply with it (or close, if it must be fatal).
 */
export type Decoded<M> =
  | { readonly kind: 'message'; readonly message: M }
  | { readonly kind: 'unknown'; readonly requestId: number; readonly fieldNumbers: readonly number[] }
  | { readonly kind: 'error'; readonly error: ProtocolError };

export type Encoded =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'error'; readonly error: ProtocolError };

export type ClientMessageInit = MessageInitShape<typeof ClientMessageSchema>;
export type ServerMessageInit = MessageInitShape<typeof ServerMessageSchema>;

/** A WebSocket frame as `ws` (Uint8Array/Buffer) or a browser (ArrayBuffer, binaryType 'arraybuffer') delivers it. */
export type Frame = Uint8Array | ArrayBuffer;

export function decodeClientMessage(
  frame: Frame,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): Decoded<KnownClientMessage> {
  return decode(ClientMessageSchema, frame, limits, checkClientMessage);
}

export function decodeServerMessage(
  frame: Frame,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): Decoded<KnownServerMessage> {
  return decode(ServerMessageSchema, frame, limits, checkServerMessage);
}

/** Validates, then encodes; a message the peer would refuse is refused here, with the same error. */
export function encodeClientMessage(init: ClientMessageInit, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Encoded {
  return encode(ClientMessageSchema, init, limits, checkClientMessage);
}

export function encodeServerMessage(init: ServerMessageInit, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Encoded {
  return encode(ServerMessageSchema, init, limits, checkServerMessage);
}

type Envelope = ClientMessage | ServerMessage;
type Validator<M extends Envelope> = (message: Known<M>, limits: CodecLimits) => Check;

function decode<M extends Envelope>(
  schema: GenMessage<M>,
  frame: Frame,
  limits: CodecLimits,
  check: Validator<M>,
): Decoded<Known<M>> {
  const bytes = asBytes(frame);
  if (bytes === undefined) return refused(0, malformed('expected a binary frame'));
  if (bytes.byteLength > limits.maxMessageBytes) return refused(0, tooLarge(bytes.byteLength, limits));
  let message: M;
  try {
    message = fromBinary(schema, bytes);
  } catch (cause) {
    return refused(0, malformed(`not a ${schema.typeName}: ${String(cause)}`));
  }
  if (!isKnown(message)) {
    const fieldNumbers = (message.$unknown ?? []).map((field) => field.no);
    if (fieldNumbers.length === 0) return refused(message.requestId, malformed(`${schema.typeName} has no payload`));
    return { kind: 'unknown', requestId: message.requestId, fieldNumbers };
  }
  const failure = check(message, limits);
  return failure ? refused(message.requestId, failure) : { kind: 'message', message };
}

function encode<M extends Envelope>(
  schema: GenMessage<M>,
  init: MessageInitShape<GenMessage<M>>,
  limits: CodecLimits,
  check: Validator<M>,
): Encoded {
  let message: M;
  let bytes: Uint8Array;
  try {
    message = create(schema, init);
    if (!isKnown(message))
      return refused(message.requestId, { code: ErrorCode.INVALID_ARGUMENT, message: 'no payload' });
    const failure = check(message, limits);
    if (failure) return refused(message.requestId, failure);
    bytes = toBinary(schema, message);
  } catch (cause) {
    // create/toBinary throw on values of the wrong type or range (e.g. a negative uint32) from untyped callers.
    return refused(0, { code: ErrorCode.INVALID_ARGUMENT, message: String(cause) });
  }
  if (bytes.byteLength > limits.maxMessageBytes) return refused(message.requestId, tooLarge(bytes.byteLength, limits));
  return { kind: 'bytes', bytes };
}

function isKnown<M extends Envelope>(message: M): message is Known<M> {
  return message.payload.case !== undefined;
}

function asBytes(frame: unknown): Uint8Array | undefined {
  if (frame instanceof Uint8Array) return frame;
  return frame instanceof ArrayBuffer ? new Uint8Array(frame) : undefined;
}

function refused(requestId: number, failure: Failure): { kind: 'error'; error: ProtocolError } {
  return { kind: 'error', error: { ...failure, requestId } };
}

function malformed(message: string): Failure {
  return { code: ErrorCode.MALFORMED_MESSAGE, message };
}

function tooLarge(size: number, limits: CodecLimits): Failure {
  return {
    code: ErrorCode.MESSAGE_TOO_LARGE,
    message: `message has ${size} bytes, more than ${limits.maxMessageBytes}`,
  };
}
