// A test double of the splatcast.v1 server behind a fake WebSocket constructor: no network, no timers of its own.
// Every socket the SDK opens is accepted (or refused), what the client sends is decoded with the real codec, and
// the test answers with real encoded server messages, or with garbage, or drops the connection.
import {
  decodeClientMessage,
  encodeServerMessage,
  type KnownClientMessage,
  PROTOCOL_VERSION,
  type ServerMessageInit,
} from '@splatcast/proto';
import type { WebSocketInstance, WebSocketLike } from '../../src/signalling.js';

export interface WelcomeOptions {
  sessionId?: string;
  resumed?: boolean;
  maxPcmChunkBytes?: number;
  pcmSampleRates?: number[];
}

export function welcome(o: WelcomeOptions = {}): ServerMessageInit['payload'] {
  return {
    case: 'welcome',
    value: {
      sessionId: o.sessionId ?? 'session-1',
      protocolVersion: PROTOCOL_VERSION,
      resumed: o.resumed ?? false,
      limits: {
        maxMessageBytes: 128 * 1024,
        maxPcmChunkBytes: o.maxPcmChunkBytes ?? 64 * 1024,
        pcmSampleRates: o.pcmSampleRates ?? [16000, 24000, 48000],
        maxPcmBufferedMs: 30_000,
        maxMessagesPerSecond: 200,
        idleTimeoutMs: 60_000,
      },
      stream: { lookaheadMs: 80, frameWidth: 256, frameHeight: 256, fps: 25 },
      routerRtpCapabilitiesJson: '{}',
    },
  };
}

export class FakeSocket implements WebSocketInstance {
  binaryType = 'blob';
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  /** Everything the client sent, decoded. */
  readonly received: KnownClientMessage[] = [];
  /** Frames the real codec refused (there must be none). */
  readonly refused: string[] = [];
  closedByClient: { code?: number; reason?: string } | undefined;

  constructor(
    readonly url: string,
    readonly protocols: string | string[],
    private readonly server: FakeServer,
  ) {}

  send(data: Uint8Array): void {
    if (this.readyState !== 1) throw new Error(`send on a socket in state ${this.readyState}`);
    const decoded = decodeClientMessage(data);
    if (decoded.kind !== 'message') {
      this.refused.push(JSON.stringify(decoded));
      return;
    }
    this.received.push(decoded.message);
    this.server.onClientMessage(this, decoded.message);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedByClient = { ...(code === undefined ? {} : { code }), ...(reason === undefined ? {} : { reason }) };
    this.readyState = 3;
    // Browsers report the close later, from the event loop.
    setTimeout(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? '' }), 0);
  }

  /** Server side: a message to the client. */
  deliver(message: ServerMessageInit): void {
    const encoded = encodeServerMessage(message);
    if (encoded.kind === 'error') throw new Error(`the test built a bad server message: ${encoded.error.message}`);
    this.deliverRaw(encoded.bytes);
  }

  /** Server side: any bytes at all, as an ArrayBuffer (binaryType 'arraybuffer'). */
  deliverRaw(bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.onmessage?.({ data: copy.buffer });
  }

  /** Server side: the connection drops (1006: abnormal, no close frame) or closes with a code. */
  drop(code = 1006, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** The last message the client sent of a payload case. */
  last<C extends NonNullable<KnownClientMessage['payload']['case']>>(
    payloadCase: C,
  ): Extract<KnownClientMessage['payload'], { case: C }>['value'] | undefined {
    const found = this.received.findLast((m) => m.payload.case === payloadCase);
    return found?.payload.value as Extract<KnownClientMessage['payload'], { case: C }>['value'] | undefined;
  }

  all<C extends NonNullable<KnownClientMessage['payload']['case']>>(
    payloadCase: C,
  ): Extract<KnownClientMessage['payload'], { case: C }>['value'][] {
    return this.received
      .filter((m) => m.payload.case === payloadCase)
      .map((m) => m.payload.value as Extract<KnownClientMessage['payload'], { case: C }>['value']);
  }
}

type Handler = (socket: FakeSocket, message: KnownClientMessage) => void;

export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  /** How a new socket is treated: opened, refused (closed before open), or left hanging. */
  accept: 'open' | 'refuse' | 'hang' = 'open';
  /** Answers hello with a Welcome (the default), or whatever the test sets. */
  onHello: Handler = (socket, m) => socket.deliver({ requestId: m.requestId, payload: welcome() });
  /** Answers the other requests; default: ack clearBuffer, pong pings. */
  onRequest: Handler = (socket, m) => {
    if (m.payload.case === 'clearBuffer')
      socket.deliver({ requestId: m.requestId, payload: { case: 'ack', value: {} } });
    if (m.payload.case === 'ping')
      socket.deliver({
        requestId: m.requestId,
        payload: { case: 'pong', value: { clientTimeMs: m.payload.value.clientTimeMs, serverTimeMs: Date.now() } },
      });
  };

  /** The constructor the SDK is given as options.WebSocket. */
  readonly WebSocket: WebSocketLike;

  constructor() {
    const server = this;
    this.WebSocket = class {
      constructor(url: string, protocols: string | string[]) {
        if (!url.startsWith('ws://') && !url.startsWith('wss://'))
          throw new SyntaxError(`The URL's scheme must be either 'ws' or 'wss'. '${url}' is not allowed.`);
        const socket = new FakeSocket(url, protocols, server);
        server.sockets.push(socket);
        setTimeout(() => {
          if (server.accept === 'open') socket.open();
          else if (server.accept === 'refuse') socket.drop(1006);
        }, 0);
        // biome-ignore lint/correctness/noConstructorReturn: a constructor double hands out the fake socket
        return socket;
      }
    } as unknown as WebSocketLike;
  }

  get current(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket yet');
    return socket;
  }

  onClientMessage(socket: FakeSocket, message: KnownClientMessage): void {
    if (message.payload.case === 'hello') this.onHello(socket, message);
    else this.onRequest(socket, message);
  }
}

/** Resolves after the pending timers and microtasks of this turn. */
export function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
