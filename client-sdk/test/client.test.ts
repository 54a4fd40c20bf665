// The client against a test double of the server (test/helpers/fake-server.ts): the hello, typed events, PCM
// chunking and conversion, interrupt, reconnect and resume, and every way the server or the socket can misbehave.
import { ErrorCode, PROTOCOL_VERSION } from '@splatcast/proto';
import t from 'tap';
import { type AvatarClient, connect, SplatcastError } from '../src/index.js';
import type { ReconnectPolicy } from '../src/reconnect-policy.js';
import { FakeServer, tick, welcome } from './helpers/fake-server.js';

const URL = 'ws://avatar.test/v1/stream';
// Hand-made frames below spell ServerMessage in protobuf wire format: 0x08 = field 1 (request_id, varint),
// 0x52 = field 10 (welcome, length-delimited), 0xa2 0x06 = field 100 (none the codec knows).

/** Retries at once, `attempts` times, then gives up. */
function quickPolicy(attempts: number): ReconnectPolicy & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    nextRetryDelayMs: ({ attempt }) => {
      asked.push(attempt);
      return attempt < attempts ? 0 : null;
    },
  };
}

async function open(server: FakeServer, extra: Partial<Parameters<typeof connect>[0]> = {}): Promise<AvatarClient> {
  return connect({ url: URL, token: 'tok', media: false, WebSocket: server.WebSocket, ...extra });
}

function closedEvent(client: AvatarClient): Promise<{ reason: string; error?: SplatcastError }> {
  return new Promise((resolve) => client.once('closed', resolve));
}

t.test('connect says hello with the token and the protocol version, and is ready on the Welcome', async (t) => {
  const server = new FakeServer();
  const client = await open(server, { identityId: 'anna' });
  t.teardown(() => client.close());
  const socket = server.current;
  t.equal(socket.url, URL);
  t.equal(socket.protocols, 'splatcast.v1', 'the subprotocol');
  t.equal(socket.binaryType, 'arraybuffer');
  const hello = socket.last('hello');
  t.match(hello, { protocolVersion: PROTOCOL_VERSION, token: 'tok', identityId: 'anna', resumeSessionId: '' });
  t.match(hello?.client, { sdk: '@splatcast/client-sdk' });
  t.equal(client.sessionId, 'session-1');
  t.match(client.config, { frameWidth: 256, frameHeight: 256, fps: 25, lookaheadMs: 80 });
  t.equal(client.mediaStream, undefined, 'no media asked for');
  t.throws(() => client.attach({} as HTMLVideoElement), SplatcastError, 'attach without media is refused');
  t.same(socket.refused, [], 'everything the client sent passes the codec');
});

t.test('server events become typed events', async (t) => {
  const server = new FakeServer();
  const client = await open(server);
  t.teardown(() => client.close());
  const seen: unknown[] = [];
  client.on('speakingStarted', () => seen.push('speakingStarted'));
  client.on('speakingStopped', (e) => seen.push(['speakingStopped', e]));
  client.on('playbackStarted', (e) => seen.push(['playbackStarted', e]));
  client.on('playbackFinished', (e) => seen.push(['playbackFinished', e]));
  client.on('stats', (e) => seen.push(['stats', e]));
  client.on('error', (e) => seen.push(['error', e.code, e.message, e.fatal, e.codeName]));
  const s = server.current;
  s.deliver({ requestId: 0, payload: { case: 'speakingStarted', value: {} } });
  s.deliver({ requestId: 0, payload: { case: 'playbackStarted', value: { segmentId: 3 } } });
  s.deliver({ requestId: 0, payload: { case: 'speakingStopped', value: { durationMs: 1234 } } });
  s.deliver({
    requestId: 0,
    payload: { case: 'playbackFinished', value: { segmentId: 3, positionMs: 1200, interrupted: true } },
  });
  s.deliver({
    requestId: 0,
    payload: { case: 'stats', value: { fps: 25, latencyMsP50: 90, latencyMsP95: 130, videoBitrateBps: 900_000 } },
  });
  s.deliver({
    requestId: 0,
    payload: {
      case: 'error',
      value: { code: ErrorCode.ENGINE_UNAVAILABLE, message: 'engine restarted', fatal: false },
    },
  });
  t.same(seen, [
    'speakingStarted',
    ['playbackStarted', { segmentId: 3 }],
    ['speakingStopped', { durationMs: 1234 }],
    ['playbackFinished', { segmentId: 3, positionMs: 1200, interrupted: true }],
    ['stats', { fps: 25, latencyMsP50: 90, latencyMsP95: 130, videoBitrateBps: 900_000, rttMs: undefined }],
    ['error', ErrorCode.ENGINE_UNAVAILABLE, 'engine restarted', false, 'ENGINE_UNAVAILABLE'],
  ]);
});

t.test('a listener that throws does not stop the others or the client', async (t) => {
  const server = new FakeServer();
  const client = await open(server);
  t.teardown(() => client.close());
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  t.teardown(() => {
    console.error = original;
  });
  let later = 0;
  client.on('speakingStarted', () => {
    throw new Error('application bug');
  });
  client.on('speakingStarted', () => later++);
  server.current.deliver({ requestId: 0, payload: { case: 'speakingStarted', value: {} } });
  server.current.deliver({ requestId: 0, payload: { case: 'speakingStarted', value: {} } });
  t.equal(later, 2, 'the next listener still ran, both times');
  t.equal(logged.length, 2, 'the throw was reported on the console');
  t.match(String((logged[0] as unknown[])[0]), /"speakingStarted" listener threw/);
  client.pushPcm(new Int16Array(10), 16000);
  t.equal(server.current.all('pcmChunk').length, 1, 'the client still works');
});

t.test('once and off: a listener runs once, or not at all once removed', async (t) => {
  const server = new FakeServer();
  const client = await open(server);
  t.teardown(() => client.close());
  let once = 0;
  let removed = 0;
  client.once('speakingStarted', () => once++);
  const off = client.on('speakingStarted', () => removed++);
  off();
  const listener = () => removed++;
  client.on('speakingStarted', listener);
  client.off('speakingStarted', listener);
  for (let i = 0; i < 3; i++) server.current.deliver({ requestId: 0, payload: { case: 'speakingStarted', value: {} } });
  t.equal(once, 1);
  t.equal(removed, 0);
});

t.test('pushPcm: chunks within the server limit, whole samples, one segment until endSegment', async (t) => {
  const server = new FakeServer();
  server.onHello = (s, m) => s.deliver({ requestId: m.requestId, payload: welcome({ maxPcmChunkBytes: 1001 }) });
  const client = await open(server);
  t.teardown(() => client.close());
  const pcm = new Int16Array(1300).map((_, i) => i - 650);
  const first = client.pushPcm(pcm, 24000);
  const second = client.pushPcm(pcm.subarray(0, 7), 24000);
  t.equal(first, second, 'pushes before endSegment belong to one segment');
  client.endSegment();
  const chunks = server.current.all('pcmChunk');
  t.same(
    chunks.map((c) => c.data.byteLength),
    [1000, 1000, 600, 14],
    'limit 1001 B: 1000-byte chunks (whole samples), then the rest',
  );
  t.same(
    chunks.map((c) => c.sequence),
    [1, 2, 3, 4],
    'sequence numbers count every chunk',
  );
  t.ok(
    chunks.every((c) => c.segmentId === first && c.sampleRate === 24000),
    'segment and rate on every chunk',
  );
  const joined = new Uint8Array(chunks.slice(0, 3).flatMap((c) => [...c.data]));
  t.same(new Int16Array(joined.buffer), pcm, 'the samples arrive unchanged, in order, little-endian s16');
  t.same(server.current.last('segmentEnd'), { $typeName: 'splatcast.v1.SegmentEnd', segmentId: first });
  const next = client.pushPcm(new Int16Array(4), 48000);
  t.equal(next, first + 1, 'after endSegment the next push opens a new segment');
  client.endSegment();
  client.endSegment();
  t.equal(server.current.all('segmentEnd').length, 2, 'a second endSegment with no open segment sends nothing');
});

t.test('pushPcm converts float samples to s16 with clipping', async (t) => {
  const server = new FakeServer();
  const client = await open(server);
  t.teardown(() => client.close());
  client.pushPcm(Float32Array.from([0, 0.5, -0.5, 1, -1, 2, -3, Number.NaN]), 16000);
  const [chunk] = server.current.all('pcmChunk');
  const data = chunk?.data as Uint8Array;
  const samples = new Int16Array(data.slice().buffer);
  // Scaled by 32767 and rounded (-16383.5 rounds up): the range is symmetric, ±32767.
  t.same([...samples], [0, 16384, -16383, 32767, -32767, 32767, -32767, 0]);
});

t.test('pushPcm refuses what the server would refuse, before opening a segment', async (t) => {
  const server = new FakeServer();
  server.onHello = (s, m) => s.deliver({ requestId: m.requestId, payload: welcome({ pcmSampleRates: [16000] }) });
  const client = await open(server);
  t.teardown(() => client.close());
  t.throws(() => client.pushPcm(new Int16Array(10), 24000), {
    code: ErrorCode.INVALID_ARGUMENT,
    message: /24000 Hz is not accepted .*16000 Hz.*resample first/,
  });
  t.throws(() => client.pushPcm(new Int16Array(10), 44100 as 48000), { code: ErrorCode.INVALID_ARGUMENT });
  t.throws(() => client.pushPcm([1, 2, 3] as unknown as Int16Array, 16000), {
    code: ErrorCode.INVALID_ARGUMENT,
    message: /Int16Array or a Float32Array/,
  });
  t.equal(server.current.all('pcmChunk').length, 0, 'nothing was sent');
  client.endSegment();
  t.equal(server.current.all('segmentEnd').length, 0, 'and no segment was opened');
  t.equal(client.pushPcm(new Int16Array(10), 16000), 1, 'the first accepted push opens segment 1');
});

t.test('a server PCM limit below one sample is refused instead of looping', async (t) => {
  const server = new FakeServer();
  server.onHello = (s, m) => s.deliver({ requestId: m.requestId, payload: welcome({ maxPcmChunkBytes: 1 }) });
  const client = await open(server);
  t.teardown(() => client.close());
  t.throws(() => client.pushPcm(new Int16Array(10), 16000), { code: ErrorCode.INVALID_ARGUMENT, message: /too small/ });
});

t.test('interrupt sends ClearBuffer, waits for the ack, and ends the open segment', async (t) => {
  const server = new FakeServer();
  const client = await open(server);
  t.teardown(() => client.close());
  const segment = client.pushPcm(new Int16Array(100), 16000);
  await client.interrupt();
  t.equal(server.current.all('clearBuffer').length, 1);
  t.equal(client.pushPcm(new Int16Array(100), 16000), segment + 1, 'new speech after it is a new segment');
  client.endSegment();
  t.equal(server.current.last('segmentEnd')?.segmentId, segment + 1, 'the interrupted segment is not ended twice');
});

t.test('interrupt refused by the server rejects with its error', async (t) => {
  const server = new FakeServer();
  server.onRequest = (s, m) =>
    s.deliver({
      requestId: m.requestId,
      payload: { case: 'error', value: { code: ErrorCode.RATE_LIMITED, message: 'slow down', fatal: false } },
    });
  const client = await open(server);
  t.teardown(() => client.close());
  await t.rejects(client.interrupt(), { code: ErrorCode.RATE_LIMITED, message: 'slow down', action: 'retry' });
});

t.test('a request the server never answers times out', async (t) => {
  const server = new FakeServer();
  server.onRequest = () => {};
  const client = await open(server, { requestTimeoutMs: 50 });
  t.teardown(() => client.close());
  await t.rejects(client.interrupt(), { message: /clearBuffer: no answer in 50 ms/ });
});

t.test('malformed server messages are dropped; a malformed answer fails its request at once', async (t) => {
  const server = new FakeServer();
  let answer: ((requestId: number) => void) | undefined;
  server.onRequest = (_s, m) => answer?.(m.requestId);
  const client = await open(server, { requestTimeoutMs: 5000 });
  t.teardown(() => client.close());
  const s = server.current;
  const errors: SplatcastError[] = [];
  client.on('error', (e) => errors.push(e));
  s.deliverRaw(new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0x01]));
  s.deliverRaw(new Uint8Array(0));
  s.deliverRaw(new Uint8Array(200 * 1024));
  s.onmessage?.({ data: 'a text frame' });
  t.same(errors, [], 'garbage raises no event');
  // An answer with a field number the codec does not know: a newer server's; ignored too.
  s.deliverRaw(new Uint8Array([0x08, 0x07, 0xa2, 0x06, 0x00]));
  // An empty Welcome (no session id, no limits) as the answer to clearBuffer: refused by the codec, with its id.
  answer = (requestId) => s.deliverRaw(new Uint8Array([0x08, requestId, 0x52, 0x00]));
  const started = Date.now();
  await t.rejects(client.interrupt(), { code: ErrorCode.MALFORMED_MESSAGE, message: /malformed answer/ });
  t.ok(Date.now() - started < 1000, 'rejected at once, not at the 5 s deadline');
  // An answer of the wrong kind.
  answer = (requestId) =>
    s.deliver({ requestId, payload: { case: 'speakingStopped', value: { durationMs: 1 } } } as never);
  await t.rejects(client.interrupt(), { code: ErrorCode.MALFORMED_MESSAGE, message: /expected ack/ });
  answer = (requestId) => s.deliver({ requestId, payload: { case: 'ack', value: {} } });
  await client.interrupt();
  t.pass('the client still works');
});

t.test('a dropped connection reconnects and resumes the same session', async (t) => {
  const server = new FakeServer();
  const policy = quickPolicy(5);
  const client = await open(server, { reconnectPolicy: policy });
  t.teardown(() => client.close());
  server.onHello = (s, m) =>
    s.deliver({ requestId: m.requestId, payload: welcome({ sessionId: 'session-1', resumed: true }) });
  const reconnecting: unknown[] = [];
  client.on('reconnecting', (e) => reconnecting.push(e));
  const ready = new Promise<void>((resolve) => client.once('ready', resolve));
  const first = server.current;
  first.drop(1006);
  t.throws(() => client.pushPcm(new Int16Array(4), 16000), { message: /not connected/ }, 'no pushes while down');
  await ready;
  t.not(server.current, first, 'a new socket');
  t.equal(server.current.last('hello')?.resumeSessionId, 'session-1', 'asks to resume the session');
  t.same(reconnecting, [{ attempt: 1, delayMs: 0 }]);
  t.same(policy.asked, [0]);
  t.equal(client.closed, false);
  client.pushPcm(new Int16Array(4), 16000);
  t.equal(server.current.all('pcmChunk').length, 1, 'pushes go to the new connection');
});

t.test('reconnect keeps trying through refused attempts, then gives up when the policy says so', async (t) => {
  const server = new FakeServer();
  const policy = quickPolicy(3);
  const client = await open(server, { reconnectPolicy: policy });
  const attempts: number[] = [];
  client.on('reconnecting', (e) => attempts.push(e.attempt));
  server.accept = 'refuse';
  const closed = closedEvent(client);
  server.current.drop(1001, 'going away');
  const event = await closed;
  t.same(attempts, [1, 2, 3], 'three attempts');
  t.same(policy.asked, [0, 1, 2, 3], 'the policy was asked before each, and said stop at the fourth');
  t.equal(event.reason, 'gave up reconnecting');
  t.equal(client.closed, true);
  t.equal(server.sockets.length, 4, 'the first socket and three attempts');
});

t.test('a fatal close (an error code that retrying cannot fix) closes without reconnecting', async (t) => {
  const server = new FakeServer();
  const policy = quickPolicy(5);
  const client = await open(server, { reconnectPolicy: policy });
  const closed = closedEvent(client);
  server.current.deliver({
    requestId: 0,
    payload: { case: 'closing', value: { reason: 5, message: 'token expired', errorCode: ErrorCode.UNAUTHENTICATED } },
  });
  server.current.drop(4000 + ErrorCode.UNAUTHENTICATED, 'token expired');
  const event = await closed;
  t.match(event, { reason: 'token expired', error: { code: ErrorCode.UNAUTHENTICATED, action: 'new-token' } });
  t.same(policy.asked, [], 'no reconnect attempt');
  t.equal(server.sockets.length, 1);
});

t.test('an idle-timeout close gives up; a server shutdown is retried', async (t) => {
  const server = new FakeServer();
  const idle = await open(server, { reconnectPolicy: quickPolicy(5) });
  const idleClosed = closedEvent(idle);
  server.current.deliver({
    requestId: 0,
    payload: { case: 'closing', value: { reason: 2, message: 'idle for 60 s', errorCode: 0 } },
  });
  server.current.drop(1000);
  t.match(await idleClosed, { reason: 'idle for 60 s' });

  const policy = quickPolicy(5);
  const restarted = await open(server, { reconnectPolicy: policy });
  t.teardown(() => restarted.close());
  const ready = new Promise<void>((resolve) => restarted.once('ready', resolve));
  server.current.deliver({
    requestId: 0,
    payload: { case: 'closing', value: { reason: 1, message: 'server shutdown', errorCode: 0 } },
  });
  server.current.drop(1001);
  await ready;
  t.same(policy.asked, [0], 'reconnected after the shutdown');
});

t.test('requests in flight fail when the socket closes; calls after close() fail clearly', async (t) => {
  const server = new FakeServer();
  server.onRequest = () => {};
  const client = await open(server, { reconnectPolicy: quickPolicy(0) });
  const pending = client.interrupt();
  client.pushPcm(new Int16Array(4), 16000); // a segment left open
  const closed = closedEvent(client);
  server.current.drop(1006);
  await t.rejects(pending, { message: /the connection closed \(1006\)/ });
  await closed;
  t.throws(() => client.pushPcm(new Int16Array(4), 16000), { message: /not connected/ });
  t.throws(() => client.endSegment(), { message: /not connected/ }, 'endSegment of an open segment');
  await t.rejects(client.interrupt(), { message: /not connected/ });
});

t.test('close() ends the session once: a normal close frame, one closed event, no reconnect', async (t) => {
  const server = new FakeServer();
  const policy = quickPolicy(5);
  const client = await open(server, { reconnectPolicy: policy });
  const events: unknown[] = [];
  client.on('closed', (e) => events.push(e));
  client.close();
  client.close();
  await tick(5);
  t.same(server.current.closedByClient, { code: 1000, reason: 'client closed' });
  t.same(events, [{ reason: 'closed by the client' }]);
  t.same(policy.asked, []);
});

t.test('connect fails clearly: bad URL, refused connection, no answer, a refused hello', async (t) => {
  const server = new FakeServer();
  await t.rejects(open(server, { url: 'http://avatar.test/v1/stream' }), {
    name: 'SplatcastError',
    code: ErrorCode.INVALID_ARGUMENT,
    message: /cannot connect to http:.*scheme/,
  });
  server.accept = 'refuse';
  await t.rejects(open(server), { message: /could not connect to .* \(close 1006\)/ });
  server.accept = 'hang';
  await t.rejects(open(server, { requestTimeoutMs: 30 }), { message: /could not connect .* in 30 ms/ });
  server.accept = 'open';
  server.onHello = (s, m) =>
    s.deliver({
      requestId: m.requestId,
      payload: { case: 'error', value: { code: ErrorCode.UNAUTHENTICATED, message: 'bad token', fatal: true } },
    });
  await t.rejects(open(server), { code: ErrorCode.UNAUTHENTICATED, message: 'bad token', fatal: true });
  t.equal(server.current.closedByClient?.code, 1000, 'the socket of the refused hello is closed');
  await t.rejects(connect({ url: URL, token: 'x', media: false }), { message: /no WebSocket here/ });
});

t.test('stats carry the WebSocket round trip once a ping was answered', async (t) => {
  const server = new FakeServer();
  const client = await open(server);
  t.teardown(() => client.close());
  // The client pings every 5 s; drive one ping by hand through the same path.
  (client as unknown as { ping(): void }).ping();
  await tick(5);
  const stats = new Promise<{ rttMs: number | undefined }>((resolve) => client.once('stats', resolve));
  server.current.deliver({
    requestId: 0,
    payload: { case: 'stats', value: { fps: 25, latencyMsP50: 1, latencyMsP95: 2, videoBitrateBps: 3 } },
  });
  const { rttMs } = await stats;
  t.type(rttMs, 'number');
  t.ok((rttMs as number) >= 0 && (rttMs as number) < 1000, `rtt ${rttMs} ms`);
});
