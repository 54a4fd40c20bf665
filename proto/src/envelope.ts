import type { ClientMessage, ServerMessage } from './gen/splatcast/v1/envelope_pb.js';

/** Names of the ClientMessage payload cases. */
export type ClientCase = NonNullable<ClientMessage['payload']['case']>;
/** Names of the ServerMessage payload cases. */
export type ServerCase = NonNullable<ServerMessage['payload']['case']>;

/** An envelope whose payload is a case this package knows, so a switch on it needs no `undefined` arm. */
export type Known<M extends ClientMessage | ServerMessage> = M & {
  payload: Exclude<M['payload'], { case: undefined }>;
};
export type KnownClientMessage = Known<ClientMessage>;
export type KnownServerMessage = Known<ServerMessage>;

export type ClientPayload<C extends ClientCase> = Extract<ClientMessage['payload'], { case: C }>['value'];
export type ServerPayload<C extends ServerCase> = Extract<ServerMessage['payload'], { case: C }>['value'];

/** Each request's success response (any request may instead get `error`); the other client cases are events. */
export const RESPONSE_CASE = {
  hello: 'welcome',
  ping: 'pong',
  createWebrtcTransport: 'webrtcTransportCreated',
  connectTransport: 'ack',
  produce: 'produced',
  closeProducer: 'ack',
  consume: 'consumed',
  resumeConsumer: 'ack',
  restartIce: 'iceRestarted',
  clearBuffer: 'ack',
} as const satisfies { readonly [C in ClientCase]?: ServerCase };

export type RequestCase = keyof typeof RESPONSE_CASE;
/** The payload a successful request of case R is answered with. */
export type ResponseTo<R extends RequestCase> = ServerPayload<(typeof RESPONSE_CASE)[R]>;

export function isRequestCase(payloadCase: string): payloadCase is RequestCase {
  return Object.hasOwn(RESPONSE_CASE, payloadCase);
}

const responseCases: ReadonlySet<string> = new Set(Object.values(RESPONSE_CASE));

/** Whether a server case answers a request (and so carries its non-zero request_id). */
export function isResponseCase(payloadCase: ServerCase): boolean {
  return responseCases.has(payloadCase);
}
