// A whole streaming server for tests: a small fixture identity (or a trained one), the CPU engine at 64x64 (or what a
// test asks for), one mediasoup worker, loopback only, an HS256 secret, and a minimal splatcast.v1 client over `ws`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  type ClientMessageInit,
  ClientMessageSchema,
  decodeServerMessage,
  encodeClientMessage,
  type KnownServerMessage,
  PROTOCOL_VERSION,
  WS_SUBPROTOCOL,
} from '@splatcast/proto';
import WebSocket from 'ws';
import { mintDevToken } from '../../src/auth/dev-token.js';
import { parseServerConfig } from '../../src/config.js';
import type { IdentityResolver, ResolvedIdentity } from '../../src/identities/identity-resolver.js';
import { StreamingServer } from '../../src/streaming-server.js';
import { fixtureIdentities, type Teardown } from './fixture.js';

export const SECRET = 'a-test-secret-of-at-least-32-characters!';
export const TOKEN = { secret: SECRET, issuer: 'splatcast-admin', audience: 'splatcast-stream' };

export function token(identityId = 'face', ttlSeconds?: number): Promise<string> {
  return mintDevToken({ ...TOKEN, ...(ttlSeconds ? { ttlSeconds } : {}) }, identityId);
}

/** `trained`: a trained identity's package to serve instead of the generated fixture (helpers/trained-identity.ts). */
export async function startServer(
  t: Teardown,
  overrides: Record<string, unknown> = {},
  size = { width: 64, height: 64 },
  trained?: string,
): Promise<StreamingServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'splatcast-stream-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const dir = trained ?? ((await fixtureIdentities(t, [3]))[0] as string);
  const face: ResolvedIdentity = trained
    ? { id: 'face', dir, name: 'may-trained', fixture: false }
    : { id: 'face', dir, name: 'fixture-3', fixture: true };
  const identities: IdentityResolver = {
    resolve: async (id) => (id === 'face' ? face : undefined),
    list: async () => [face],
  };
  const config = parseServerConfig({
    http: { host: '127.0.0.1', port: 0 },
    engine: { device: 'cpu', ...size },
    auth: { secret: SECRET, devToken: false },
    ...overrides,
    admin: { dataDir, enabled: false },
  });
  const server = await StreamingServer.start({ config, identities });
  t.teardown(() => server.close());
  return server;
}

/** A bare protocol client: send requests, read every server message. */
export class TestClient {
  readonly messages: KnownServerMessage[] = [];
  closeCode: number | undefined;
  private nextId = 1;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const decoded = decodeServerMessage(new Uint8Array(data));
      if (decoded.kind === 'message') this.messages.push(decoded.message);
      this.wake();
    });
    ws.on('close', (code: number) => {
      this.closeCode = code;
      this.wake();
    });
  }

  static async connect(url: string, protocol = WS_SUBPROTOCOL): Promise<TestClient> {
    const ws = new WebSocket(url, protocol);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new TestClient(ws);
  }

  /** Connects and says Hello; resolves with the Welcome (or the error). */
  static async open(server: StreamingServer, tokenText?: string): Promise<TestClient> {
    const client = await TestClient.connect(server.streamUrl);
    const welcome = await client.request({
      case: 'hello',
      value: { protocolVersion: PROTOCOL_VERSION, token: tokenText ?? (await token()) },
    });
    if (welcome.payload.case !== 'welcome') throw new Error(`no welcome: ${JSON.stringify(welcome.payload.value)}`);
    return client;
  }

  get welcome() {
    const m = this.messages.find((x) => x.payload.case === 'welcome');
    return m?.payload.case === 'welcome' ? m.payload.value : undefined;
  }

  send(message: ClientMessageInit): void {
    const encoded = encodeClientMessage(message);
    if (encoded.kind === 'error') throw new Error(encoded.error.message);
    this.ws.send(encoded.bytes);
  }

  /** Sends without the codec's checks (what a buggy or hostile client could send). */
  sendUnchecked(message: ClientMessageInit): void {
    this.ws.send(toBinary(ClientMessageSchema, create(ClientMessageSchema, message)));
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  async request(payload: ClientMessageInit['payload'], timeoutMs = 15000): Promise<KnownServerMessage> {
    const requestId = this.nextId++;
    this.send({ requestId, payload });
    return this.next((m) => m.requestId === requestId, timeoutMs, `the answer to ${payload?.case}`);
  }

  /** The first message (already received or coming) matching `predicate`. */
  async next(
    predicate: (m: KnownServerMessage) => boolean,
    timeoutMs = 15000,
    what = 'a message',
  ): Promise<KnownServerMessage> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`closed (${this.closeCode}) while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async closed(timeoutMs = 10000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (performance.now() > deadline) throw new Error('the server did not close the connection');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.closeCode;
  }

  close(): void {
    this.ws.close(1000);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** s16le mono PCM bytes of a float signal. */
export function pcmBytes(samples: Float32Array): Uint8Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.round((samples[i] as number) * 32767);
  return new Uint8Array(out.buffer);
}
