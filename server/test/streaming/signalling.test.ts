// The signalling endpoint against bad and good clients, over real WebSockets, with a real engine worker and a real
// mediasoup worker behind it: every malformed input gets its error code, and a good session streams and tears down.
import { CloseReason, ErrorCode, MediaKind, PROTOCOL_VERSION, TransportDirection } from '@splatcast/proto';
import t from 'tap';
import { syntheticSpeech, until } from '../helpers/fixture.js';
import { pcmBytes, startServer, TestClient, token } from '../helpers/streaming.js';

const server = await startServer(t, { sessions: { helloTimeoutMs: 1500, statsIntervalMs: 0 } });
const hello = async (tokenText: string, extra: Record<string, unknown> = {}) => ({
  case: 'hello' as const,
  value: { protocolVersion: PROTOCOL_VERSION, token: tokenText, ...extra },
});

t.test('malformed and unexpected input before Hello closes with 4000 + code', async (t) => {
  const cases: [string, (c: TestClient) => void, ErrorCode][] = [
    [
      'bytes that are no envelope',
      (c) => c.sendRaw(new Uint8Array([0xff, 0xff, 0xff, 0x07])),
      ErrorCode.MALFORMED_MESSAGE,
    ],
    [
      'a request before Hello',
      (c) => c.send({ requestId: 1, payload: { case: 'clearBuffer', value: {} } }),
      ErrorCode.UNEXPECTED_MESSAGE,
    ],
    ['an envelope with no payload', (c) => c.sendRaw(new Uint8Array([0x08, 0x01])), ErrorCode.MALFORMED_MESSAGE],
  ];
  for (const [what, send, code] of cases) {
    const client = await TestClient.connect(server.streamUrl);
    send(client);
    t.equal(await client.closed(), 4000 + code, what);
  }
  const silent = await TestClient.connect(server.streamUrl);
  t.equal(await silent.closed(), 4000 + ErrorCode.UNEXPECTED_MESSAGE, 'no Hello within helloTimeoutMs');
});

t.test('a text frame is refused without closing', async (t) => {
  const client = await TestClient.open(server);
  client.sendRaw('hello?');
  const error = await client.next((m) => m.payload.case === 'error');
  t.match(error.payload.value, { code: ErrorCode.MALFORMED_MESSAGE });
  const pong = await client.request({ case: 'ping', value: { clientTimeMs: 1 } });
  t.equal(pong.payload.case, 'pong', 'the connection still works');
  client.close();
});

t.test('tokens: bad, expired, wrong identity, wrong protocol version', async (t) => {
  const bad = await TestClient.connect(server.streamUrl);
  bad.send({ requestId: 1, payload: await hello('not-a-jwt') });
  t.equal(await bad.closed(), 4000 + ErrorCode.UNAUTHENTICATED, 'garbage token');
  const old = await token('face', 1);
  await new Promise((r) => setTimeout(r, 7000)); // past exp + the verifier's 5 s tolerance
  const expired = await TestClient.connect(server.streamUrl);
  expired.send({ requestId: 1, payload: await hello(old) });
  t.equal(await expired.closed(), 4000 + ErrorCode.UNAUTHENTICATED, 'expired token');
  const other = await TestClient.connect(server.streamUrl);
  other.send({ requestId: 1, payload: await hello(await token('face'), { identityId: 'someone-else' }) });
  t.equal(await other.closed(), 4000 + ErrorCode.PERMISSION_DENIED, 'identity the token does not grant');
  const missing = await TestClient.connect(server.streamUrl);
  missing.send({ requestId: 1, payload: await hello(await token('nobody')) });
  t.equal(await missing.closed(), 4000 + ErrorCode.IDENTITY_NOT_FOUND, 'identity that does not exist');
  const ancient = await TestClient.connect(server.streamUrl);
  ancient.sendRaw(new Uint8Array([0x08, 0x01, 0x52, 0x04, 0x12, 0x02, 0x61, 0x62])); // hello without a version
  t.equal(await ancient.closed(), 4000 + ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, 'hello without protocol_version');
});

t.test('the WebSocket needs the splatcast.v1 subprotocol and the stream path', async (t) => {
  await t.rejects(TestClient.connect(server.streamUrl, 'chat'), 'another subprotocol is refused at the upgrade');
  await t.rejects(TestClient.connect(server.streamUrl.replace('/v1/stream', '/nope')), 'another path is refused');
});

t.test('requests with bad ids or arguments get error replies, the session lives on', async (t) => {
  const client = await TestClient.open(server);
  const noTransport = await client.request({
    case: 'connectTransport',
    value: { transportId: 'nope', dtlsParametersJson: '{}' },
  });
  t.match(noTransport.payload.value, { code: ErrorCode.TRANSPORT_NOT_FOUND });
  // The SDK's codec would refuse this before sending: bypass it.
  client.sendUnchecked({
    requestId: 99,
    payload: { case: 'consume', value: { transportId: 'x', kind: MediaKind.VIDEO, rtpCapabilitiesJson: '{not json' } },
  });
  const badJson = await client.next((m) => m.requestId === 99);
  t.match(badJson.payload.value, { code: ErrorCode.INVALID_ARGUMENT });
  client.sendUnchecked({
    requestId: 0,
    payload: { case: 'pcmChunk', value: { sampleRate: 22050, data: new Uint8Array(4), segmentId: 1 } },
  });
  t.match((await client.next((m) => m.payload.case === 'error' && m.requestId === 0)).payload.value, {
    code: ErrorCode.INVALID_ARGUMENT,
  });
  const second = await client.request(await hello(await token()));
  t.match(second.payload.value, { code: ErrorCode.UNEXPECTED_MESSAGE }, 'a second Hello');
  const send = await client.request({
    case: 'createWebrtcTransport',
    value: { direction: TransportDirection.SEND, forceTcp: false },
  });
  t.equal(send.payload.case, 'webrtcTransportCreated');
  const video = await client.request({
    case: 'produce',
    value: {
      transportId: send.payload.case === 'webrtcTransportCreated' ? send.payload.value.transportId : '',
      kind: MediaKind.VIDEO,
      rtpParametersJson: '{}',
    },
  });
  t.match(video.payload.value, { code: ErrorCode.INVALID_ARGUMENT }, 'only a microphone may be produced');
  t.equal((await client.request({ case: 'ping', value: { clientTimeMs: 2 } })).payload.case, 'pong');
  client.close();
});

t.test('agent PCM plays: playback_started, speaking, playback_finished; clear_buffer interrupts', async (t) => {
  const client = await TestClient.open(server);
  const speech = pcmBytes(syntheticSpeech(16000, 16000));
  for (let at = 0; at < speech.length; at += 3200)
    client.send({
      requestId: 0,
      payload: {
        case: 'pcmChunk',
        value: { sampleRate: 16000, data: speech.slice(at, at + 3200), sequence: at / 3200 + 1, segmentId: 7 },
      },
    });
  client.send({ requestId: 0, payload: { case: 'segmentEnd', value: { segmentId: 7 } } });
  const started = await client.next((m) => m.payload.case === 'playbackStarted');
  t.match(started.payload.value, { segmentId: 7 });
  await client.next((m) => m.payload.case === 'speakingStarted');
  const finished = await client.next((m) => m.payload.case === 'playbackFinished');
  t.match(finished.payload.value, { segmentId: 7, positionMs: 1000, interrupted: false });
  await client.next((m) => m.payload.case === 'speakingStopped');

  const long = pcmBytes(syntheticSpeech(48000 * 5, 48000));
  for (let at = 0; at < long.length; at += 9600)
    client.send({
      requestId: 0,
      payload: {
        case: 'pcmChunk',
        value: { sampleRate: 48000, data: long.slice(at, at + 9600), sequence: 100 + at, segmentId: 8 },
      },
    });
  await client.next((m) => m.payload.case === 'playbackStarted' && m.payload.value.segmentId === 8);
  const ack = await client.request({ case: 'clearBuffer', value: {} });
  t.equal(ack.payload.case, 'ack');
  const cut = await client.next((m) => m.payload.case === 'playbackFinished' && m.payload.value.segmentId === 8);
  t.match(cut.payload.value, { interrupted: true });
  t.ok((cut.payload.value as { positionMs: number }).positionMs < 5000, 'cut before its end');
  client.close();
});

t.test('agent audio too far ahead of playback is refused with AUDIO_BUFFER_FULL', async (t) => {
  const client = await TestClient.open(server);
  const second = pcmBytes(syntheticSpeech(16000, 16000));
  for (let i = 0; i < 35; i++)
    client.send({
      requestId: 0,
      payload: {
        case: 'pcmChunk',
        value: { sampleRate: 16000, data: second.slice(0, 32000), sequence: i + 1, segmentId: 1 },
      },
    });
  const full = await client.next(
    (m) => m.payload.case === 'error' && m.payload.value.code === ErrorCode.AUDIO_BUFFER_FULL,
  );
  t.ok(full, 'refused past maxPcmBufferedMs (30 s)');
  client.close();
});

t.test('a kicked session gets Closing and the connection closes', async (t) => {
  const client = await TestClient.open(server);
  const id = client.welcome?.sessionId as string;
  t.ok(await server.sessions.kick(id, 'operator ended it'));
  const closing = await client.next((m) => m.payload.case === 'closing');
  t.match(closing.payload.value, { reason: CloseReason.SERVER_SHUTDOWN });
  await client.closed();
  await until(() => server.sessions.size === 0, 5000, 'every session of this file to end');
});
