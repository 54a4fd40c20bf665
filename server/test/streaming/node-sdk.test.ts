// The Node entry of the client SDK against a real server: an agent pushes PCM (24 kHz, odd chunk sizes), gets the
// LiveKit-style playback events, interrupts, and survives a dropped connection by resuming its session.
import { connect, ErrorCode } from '@splatcast/client-sdk/node';
import t from 'tap';
import { syntheticSpeech, until } from '../helpers/fixture.js';
import { startServer, token } from '../helpers/streaming.js';

const server = await startServer(t, { sessions: { statsIntervalMs: 200 } });

function recorder(client: Awaited<ReturnType<typeof connect>>) {
  const events: { event: string; detail?: unknown }[] = [];
  for (const event of [
    'speakingStarted',
    'speakingStopped',
    'playbackStarted',
    'playbackFinished',
    'stats',
    'reconnecting',
    'ready',
    'error',
    'closed',
  ] as const)
    client.on(event, (detail?: unknown) => events.push({ event, detail }));
  return events;
}

t.test('PCM push: playback and speaking events, then interrupt', async (t) => {
  const client = await connect({ url: server.streamUrl, token: await token() });
  t.teardown(() => client.close());
  const events = recorder(client);
  t.ok(client.sessionId, 'a session');
  t.equal(client.config?.fps, 25);
  const speech = syntheticSpeech(24000, 24000);
  for (let at = 0; at < speech.length; at += 1777) client.pushPcm(speech.subarray(at, at + 1777), 24000);
  client.endSegment();
  await until(() => events.some((e) => e.event === 'playbackFinished'), 10000, 'playbackFinished');
  const names = () => events.map((e) => e.event).filter((e) => e !== 'stats');
  await until(() => events.some((e) => e.event === 'speakingStopped'), 5000, 'speakingStopped');
  const order = (a: string, b: string) => names().indexOf(a) >= 0 && names().indexOf(a) < names().lastIndexOf(b);
  t.ok(order('playbackStarted', 'playbackFinished'), 'playbackStarted, then playbackFinished');
  t.ok(order('speakingStarted', 'speakingStopped'), 'speakingStarted, then speakingStopped');
  t.match(events.find((e) => e.event === 'playbackFinished')?.detail, {
    segmentId: 1,
    positionMs: 1000,
    interrupted: false,
  });
  await until(() => events.some((e) => e.event === 'stats'), 5000, 'stats');

  const long = syntheticSpeech(16000 * 6, 16000);
  const segment = client.pushPcm(long, 16000);
  client.endSegment();
  await until(
    () =>
      events.some((e) => e.event === 'playbackStarted' && (e.detail as { segmentId: number }).segmentId === segment),
    10000,
    'the second segment to start',
  );
  await client.interrupt();
  await until(
    () => events.some((e) => e.event === 'playbackFinished' && (e.detail as { interrupted: boolean }).interrupted),
    5000,
    'the interrupted playbackFinished',
  );
  t.pass('interrupted');
});

t.test('a dropped connection reconnects and resumes the same session', async (t) => {
  const client = await connect({ url: server.streamUrl, token: await token() });
  t.teardown(() => client.close());
  const events = recorder(client);
  const id = client.sessionId;
  for (const ws of server.signalling['wss'].clients) ws.terminate();
  await until(() => events.some((e) => e.event === 'ready'), 10000, 'ready again');
  t.ok(
    events.some((e) => e.event === 'reconnecting'),
    'reconnecting was reported',
  );
  t.equal(client.sessionId, id, 'the same session resumed');
  client.pushPcm(syntheticSpeech(8000, 16000), 16000);
  client.endSegment();
  await until(() => events.some((e) => e.event === 'playbackFinished'), 10000, 'speech after the resume');
});

t.test('a bad token closes with UNAUTHENTICATED and no retry', async (t) => {
  await t.rejects(connect({ url: server.streamUrl, token: 'nope' }), { code: ErrorCode.UNAUTHENTICATED });
});
