// Failures under a live session: the engine worker killed (the session resumes on a restarted one), the mediasoup
// worker killed (MediaReset, and media can be negotiated again), and 50 connect/disconnect cycles leaving no
// sessions, transports, engine slots, handles or memory behind.
import { ErrorCode, MediaKind, TransportDirection } from '@splatcast/proto';
import t from 'tap';
import { registry } from '../../src/metrics/registry.js';
import { until } from '../helpers/fixture.js';
import { startServer, TestClient } from '../helpers/streaming.js';

const server = await startServer(t, { sessions: { statsIntervalMs: 0, resumeWindowMs: 0 } });

async function routerTransports(): Promise<number> {
  const worker = server.media as unknown as { slots: { router?: { dump(): Promise<{ transportIds: string[] }> } }[] };
  let n = 0;
  for (const slot of worker.slots) n += (await slot.router?.dump())?.transportIds.length ?? 0;
  return n;
}

async function engineSessions(): Promise<number> {
  const stats = await Promise.all(server.engines.workers.map((w) => w.stats()));
  return stats.reduce((n, s) => n + s.sessions, 0);
}

// The goal (resumed within 2 s) is a performance figure, printed as a comment rather than asserted: the takeover
// by the warm spare takes tens of milliseconds, but a loaded 2-core CI machine can stall any process for seconds.
t.test('a killed engine worker: the session resumes on the warm spare, and a new spare starts', async (t) => {
  const client = await TestClient.open(server);
  const session = server.sessions.sessions[0];
  if (!session) throw new Error('no session');
  const before = session.engine.workerPid as number;
  let frames = 0;
  session.engine.on('encodedFrame', () => frames++);
  // The warm spare starts behind the server; in service it has long been up when a worker dies.
  await server.engines.sparesReady();
  const spare = server.engines.spareWorkers[0]?.pid;
  t.ok(spare, 'a warm spare runs');
  const killedAt = performance.now();
  process.kill(before, 'SIGKILL');
  const error = await client.next(
    (m) => m.payload.case === 'error' && m.payload.value.code === ErrorCode.ENGINE_UNAVAILABLE,
  );
  t.ok(error, 'the client is told the engine restarted');
  await new Promise<void>((resolve) => session.engine.once('resumed', () => resolve()));
  const resumedMs = performance.now() - killedAt;
  t.comment(`resumed ${resumedMs.toFixed(0)} ms after the kill`);
  t.equal(session.engine.workerPid, spare, 'on the process that was the warm spare');
  // The pool reports the takeover once every session on the worker is back (this one is the first of them).
  const counted = async () =>
    /splatcast_engine_resume_milliseconds_count\{replacement="spare"\} [1-9]/.test(
      await registry.getSingleMetricAsString('splatcast_engine_resume_milliseconds'),
    );
  await until(counted, 5000, 'the takeover in /metrics').catch(() => {});
  t.ok(await counted(), 'the takeover is in /metrics');
  await until(() => server.engines.spareWorkers.length === 1, 30_000, 'a new spare');
  await server.engines.sparesReady();
  const next = server.engines.spareWorkers[0]?.pid;
  t.not(next, spare, 'a new spare runs behind it');
  const at = frames;
  await until(() => frames > at + 5, 5000, 'frames after the restart');
  t.ok(session.engine.videoConfig, 'still encoding');
  client.close();
});

t.test('a killed mediasoup worker: MediaReset, then transports can be created again', async (t) => {
  const client = await TestClient.open(server);
  const created = await client.request({
    case: 'createWebrtcTransport',
    value: { direction: TransportDirection.RECV, forceTcp: false },
  });
  t.equal(created.payload.case, 'webrtcTransportCreated');
  const [pid] = server.media.workerPids;
  process.kill(pid as number, 'SIGKILL');
  const reset = await client.next((m) => m.payload.case === 'mediaReset', 10000, 'MediaReset');
  t.ok(reset, 'told to negotiate again');
  t.not(server.media.workerPids[0], pid, 'a new mediasoup worker runs');
  const old = created.payload.case === 'webrtcTransportCreated' ? created.payload.value.transportId : '';
  const stale = await client.request({ case: 'restartIce', value: { transportId: old } });
  t.match(stale.payload.value, { code: ErrorCode.TRANSPORT_NOT_FOUND }, 'the old transport is gone');
  const again = await client.request({
    case: 'createWebrtcTransport',
    value: { direction: TransportDirection.RECV, forceTcp: true },
  });
  t.equal(again.payload.case, 'webrtcTransportCreated', 'a new one (TCP only) works');
  const caps = client.welcome?.routerRtpCapabilitiesJson as string;
  const consumed = await client.request({
    case: 'consume',
    value: {
      transportId: again.payload.case === 'webrtcTransportCreated' ? again.payload.value.transportId : '',
      kind: MediaKind.VIDEO,
      rtpCapabilitiesJson: caps,
    },
  });
  t.equal(consumed.payload.case, 'consumed', 'the avatar can be consumed from the new router');
  client.close();
  await until(() => server.sessions.size === 0, 5000, 'the session to end');
});

t.test('50 connect/disconnect cycles leave nothing behind', async (t) => {
  const caps = async (client: TestClient) => {
    const recv = await client.request({
      case: 'createWebrtcTransport',
      value: { direction: TransportDirection.RECV, forceTcp: false },
    });
    const id = recv.payload.case === 'webrtcTransportCreated' ? recv.payload.value.transportId : '';
    await client.request({
      case: 'consume',
      value: {
        transportId: id,
        kind: MediaKind.VIDEO,
        rtpCapabilitiesJson: client.welcome?.routerRtpCapabilitiesJson as string,
      },
    });
  };
  // Warm up once so that lazily made things (codecs, JIT) are not counted as leaks.
  const warm = await TestClient.open(server);
  await caps(warm);
  warm.close();
  await until(() => server.sessions.size === 0, 5000, 'the warm-up session to end');
  global.gc?.();
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  const heap = process.memoryUsage().heapUsed;
  for (let i = 0; i < 50; i++) {
    const client = await TestClient.open(server);
    await caps(client);
    if (i % 2) client.close();
    else client.ws.terminate(); // an abrupt drop: resumeWindowMs is 0 here, so it ends at once too
    await until(() => server.sessions.size === 0, 5000, `session ${i} to end`);
  }
  await until(() => server.signalling.clients === 0, 5000, 'sockets to close');
  t.equal(server.sessions.size, 0, 'no session left');
  t.equal(await routerTransports(), 0, 'no mediasoup transport left on the router');
  await until(async () => (await engineSessions()) === 0, 5000, 'engine slots to be freed').catch(() => {});
  t.equal(await engineSessions(), 0, 'no engine session left in the worker');
  global.gc?.();
  const handlesAfter = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  const heapAfter = process.memoryUsage().heapUsed;
  t.comment(
    `handles ${handles} -> ${handlesAfter}, heap ${(heap / 1e6).toFixed(1)} -> ${(heapAfter / 1e6).toFixed(1)} MB`,
  );
  t.ok(handlesAfter <= handles + 2, 'no handles leaked');
  t.ok(heapAfter - heap < 40e6, 'heap did not grow by a session per cycle');
});
