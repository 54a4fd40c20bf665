// The client end of splatcast.v1: one WebSocket, binary protobuf envelopes through @splatcast/proto's codec,
// requests matched to responses by request_id with a deadline each, server events handed to one callback.
import {
  type ClientMessageInit,
  type CodecLimits,
  DEFAULT_CODEC_LIMITS,
  decodeServerMessage,
  ErrorCode,
  encodeClientMessage,
  errorForCloseCode,
  type KnownServerMessage,
  RESPONSE_CASE,
  type RequestCase,
  type ResponseTo,
  WS_SUBPROTOCOL,
} from '@splatcast/proto';
import { SplatcastError } from './errors.js';

/** The WebSocket constructor: the browser's, or `ws` in Node. */
export type WebSocketLike = {
  new (url: string, protocols: string | string[]): WebSocketInstance;
};
export interface WebSocketInstance {
  binaryType: string;
  readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

type Payload = NonNullable<ClientMessageInit['payload']>;
type RequestPayload<R extends RequestCase> = Payload & { case: R };

interface Pending {
  expect: string;
  resolve(value: unknown): void;
  reject(error: SplatcastError): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface SignallingCallbacks {
  event(message: KnownServerMessage): void;
  closed(code: number, reason: string, error: SplatcastError | undefined): void;
}

export class Signalling {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  limits: CodecLimits = DEFAULT_CODEC_LIMITS;
  private isClosed = false;

  private constructor(
    private readonly socket: WebSocketInstance,
    private readonly callbacks: SignallingCallbacks,
    private readonly timeoutMs: number,
  ) {
    socket.onmessage = (ev) => this.received(ev.data);
    socket.onclose = (ev) => this.onClose(ev.code, ev.reason);
  }

  static open(url: string, Ws: WebSocketLike, callbacks: SignallingCallbacks, timeoutMs: number): Promise<Signalling> {
    return new Promise((resolve, reject) => {
      let socket: WebSocketInstance;
      try {
        socket = new Ws(url, WS_SUBPROTOCOL);
      } catch (error) {
        // A malformed URL or a refused scheme: the constructor throws (a SyntaxError in browsers).
        reject(new SplatcastError(ErrorCode.INVALID_ARGUMENT, `cannot connect to ${url}: ${(error as Error).message}`));
        return;
      }
      socket.binaryType = 'arraybuffer';
      const timer = setTimeout(() => {
        socket.close();
        reject(new SplatcastError(ErrorCode.UNSPECIFIED, `could not connect to ${url} in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.onopen = () => {
        clearTimeout(timer);
        resolve(new Signalling(socket, callbacks, timeoutMs));
      };
      socket.onerror = () => {};
      socket.onclose = (ev) => {
        clearTimeout(timer);
        reject(new SplatcastError(ErrorCode.UNSPECIFIED, `could not connect to ${url} (close ${ev.code})`));
      };
    });
  }

  get open(): boolean {
    return !this.isClosed;
  }

  request<R extends RequestCase>(payload: RequestPayload<R>): Promise<ResponseTo<R>> {
    if (this.isClosed) return Promise.reject(new SplatcastError(ErrorCode.UNSPECIFIED, 'the connection is closed'));
    const requestId = this.nextId++;
    const encoded = encodeClientMessage({ requestId, payload } as ClientMessageInit, this.limits);
    if (encoded.kind === 'error')
      return Promise.reject(new SplatcastError(encoded.error.code, `${payload.case}: ${encoded.error.message}`));
    return new Promise<ResponseTo<R>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new SplatcastError(ErrorCode.UNSPECIFIED, `${payload.case}: no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const expect = RESPONSE_CASE[payload.case as R];
      this.pending.set(requestId, { expect, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.send(encoded.bytes);
    });
  }

  /** A message with no answer (PCM, segment end). */
  notify(payload: Payload): void {
    if (this.isClosed) throw new SplatcastError(ErrorCode.UNSPECIFIED, 'the connection is closed');
    const encoded = encodeClientMessage({ requestId: 0, payload }, this.limits);
    if (encoded.kind === 'error') throw new SplatcastError(encoded.error.code, encoded.error.message);
    this.socket.send(encoded.bytes);
  }

  close(code = 1000, reason = 'client closed'): void {
    if (this.isClosed) return;
    this.socket.close(code, reason);
    this.onClose(code, reason);
  }

  private received(data: unknown): void {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
    const decoded = decodeServerMessage(bytes);
    if (decoded.kind === 'error') {
      // Garbage is dropped; but a refused answer to a request in flight fails that request now, not at its deadline.
      const pending = decoded.error.requestId ? this.pending.get(decoded.error.requestId) : undefined;
      if (pending) {
        this.pending.delete(decoded.error.requestId);
        clearTimeout(pending.timer);
        pending.reject(
          new SplatcastError(ErrorCode.MALFORMED_MESSAGE, `malformed answer from the server: ${decoded.error.message}`),
        );
      }
      return;
    }
    if (decoded.kind !== 'message') return; // payload cases of a newer server are ignored
    const message = decoded.message;
    const pending = message.requestId ? this.pending.get(message.requestId) : undefined;
    if (pending) {
      this.pending.delete(message.requestId);
      clearTimeout(pending.timer);
      if (message.payload.case === 'error') {
        const e = message.payload.value;
        pending.reject(new SplatcastError(e.code, e.message, e.fatal));
      } else if (message.payload.case === pending.expect) pending.resolve(message.payload.value);
      else pending.reject(new SplatcastError(ErrorCode.MALFORMED_MESSAGE, `expected ${pending.expect}`));
      return;
    }
    this.callbacks.event(message);
  }

  private onClose(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const errorCode = errorForCloseCode(code);
    const error = errorCode ? new SplatcastError(errorCode, reason || `closed with ${code}`, true) : undefined;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error ?? new SplatcastError(ErrorCode.UNSPECIFIED, `the connection closed (${code})`));
    }
    this.pending.clear();
    this.callbacks.closed(code, reason, error);
  }
}
