// The engine pool's warm spare: it holds the identities in use, takes over a killed worker's sessions without a
// process start or an identity load, is replaced behind it, survives its own death, and ends with the pool.
import t from 'tap';
import { EnginePool, type EnginePoolOptions, workerThreadPoolSize } from '../../src/engine/engine-pool.js';
import type { EngineWorker } from '../../src/engine/engine-worker.js';
import { alive, fixtureIdentities, SIZE, type Teardown, until } from '../helpers/fixture.js';

const [dirA, dirB] = (await fixtureIdentities(t, [1, 2])) as [string, string];

async function start(t: Teardown, options: EnginePoolOptions = {}): Promise<EnginePool> {
  const pool = await EnginePool.create({ worker: { device: 'cpu', ...SIZE }, ...options });
  t.teardown(() => {
    pool.close();
    return pool.exited();
  });
  return pool;
}

async function spareOf(pool: EnginePool): Promise<EngineWorker> {
  await until(() => pool.spareWorkers.length === 1, 60_000, 'a warm spare');
  return pool.spareWorkers[0] as EngineWorker;
}

t.test('the spare preloads the identities in use and lets go of them when their sessions close', async (t) => {
  const pool = await start(t);
  const spare = await spareOf(pool);
  t.match(await spare.stats(), { sessions: 0, identities: 0, preloadedIdentities: 0 }, 'an idle spare holds nothing');
  const a1 = await pool.openSession({ identityId: 'a', identityDir: dirA });
  const a2 = await pool.openSession({ identityId: 'a', identityDir: dirA });
  const b = await pool.openSession({ identityId: 'b', identityDir: dirB });
  await until(async () => (await spare.stats()).identities === 2, 30_000, 'both identities loaded on the spare');
  t.match(await spare.stats(), { sessions: 0, identities: 2, preloadedIdentities: 2 });
  a1.close();
  b.close();
  await until(async () => (await spare.stats()).identities === 1, 10_000, 'b released on the spare');
  t.match(await spare.stats(), { identities: 1, preloadedIdentities: 1 }, 'a is still in use (a2)');
  a2.close();
  await until(async () => (await spare.stats()).identities === 0, 10_000, 'a released on the spare');
});

t.test("a killed worker's sessions move onto the spare at once; a new spare takes its place", async (t) => {
  const pool = await start(t);
  const spare = await spareOf(pool);
  const a = await pool.openSession({ identityId: 'a', identityDir: dirA });
  const b = await pool.openSession({ identityId: 'b', identityDir: dirB });
  await a.configureVideo('vp8', 300_000);
  await until(async () => (await spare.stats()).identities === 2, 30_000, 'identities preloaded');
  const restarted = new Promise<{ fromSpare: boolean; resumeMs: number }>((resolve) =>
    pool.once('workerrestarted', (_worker, info) => resolve(info)),
  );
  const resumed = Promise.all([a, b].map((s) => new Promise<void>((resolve) => s.once('resumed', () => resolve()))));
  const killed = a.workerPid as number;
  process.kill(killed, 'SIGKILL');
  const info = await restarted;
  await resumed;
  t.comment(`sessions resumed on the warm spare ${info.resumeMs.toFixed(0)} ms after the death was seen`);
  t.ok(info.fromSpare, 'the spare took over');
  t.equal(a.workerPid, spare.pid, 'session a runs on the former spare');
  t.equal(b.workerPid, spare.pid, 'and so does b');
  t.same(pool.workers, [spare], 'the spare is the slot worker now');
  t.same(a.videoConfig, { codec: 'vp8', bitrateBps: 300_000 }, 'the encoder settings came along');
  await until(async () => (await spare.stats()).preloadedIdentities === 0, 10_000, 'preloads handed to sessions');
  t.match(await spare.stats(), { sessions: 2, identities: 2 }, "the sessions hold the spare's identities now");
  const next = await spareOf(pool);
  t.not(next.pid, spare.pid, 'a new spare');
  t.not(next.pid, killed);
  await until(async () => (await next.stats()).identities === 2, 30_000, 'the new spare preloads both identities');
  let frames = 0;
  a.on('encodedFrame', () => frames++);
  await until(() => frames >= 3, 10_000, 'encoded frames after the takeover');
});

t.test('a spare that dies is replaced; the sessions never notice', async (t) => {
  const pool = await start(t);
  const spare = await spareOf(pool);
  const session = await pool.openSession({ identityId: 'a', identityDir: dirA });
  const before = session.workerPid;
  let workerDied = false;
  pool.on('workerdied', () => {
    workerDied = true;
  });
  process.kill(spare.pid, 'SIGKILL');
  await until(() => pool.spareWorkers.length === 1 && pool.spareWorkers[0] !== spare, 30_000, 'a replacement spare');
  const next = pool.spareWorkers[0] as EngineWorker;
  await until(async () => (await next.stats()).identities === 1, 30_000, 'the replacement preloads the identity');
  t.equal(session.workerPid, before, 'the session stayed where it was');
  t.equal(session.state, 'open');
  t.notOk(workerDied, 'no slot worker died');
});

t.test('without a spare a fresh process takes over', async (t) => {
  const pool = await start(t, { spareWorker: false });
  const session = await pool.openSession({ identityId: 'a', identityDir: dirA });
  const restarted = new Promise<{ fromSpare: boolean; resumeMs: number }>((resolve) =>
    pool.once('workerrestarted', (_worker, info) => resolve(info)),
  );
  const killed = session.workerPid as number;
  process.kill(killed, 'SIGKILL');
  const info = await restarted;
  t.comment(`resumed on a fresh process ${info.resumeMs.toFixed(0)} ms after the death was seen`);
  t.notOk(info.fromSpare);
  t.equal(session.state, 'open');
  t.not(session.workerPid, killed);
  t.same(pool.spareWorkers, [], 'no spare ever');
});

t.test('closing the pool ends the spare too', async (t) => {
  const pool = await EnginePool.create({ worker: { device: 'cpu', ...SIZE } });
  const spare = await spareOf(pool);
  const [worker] = pool.workers;
  pool.close();
  await pool.exited();
  t.notOk(alive(spare.pid), 'the spare process exited');
  t.notOk(alive((worker as EngineWorker).pid), 'the worker process exited');
});

t.test("workers share the machine's cores out for their encodes, at least libuv's 4 each", async (t) => {
  t.equal(workerThreadPoolSize(16, 2), 8, '16 cores, 2 workers');
  t.equal(workerThreadPoolSize(16, 3), 6, 'rounded up');
  t.equal(workerThreadPoolSize(2, 1), 4, "never below libuv's default");
  t.equal(workerThreadPoolSize(4096, 1), 1024, "libuv's maximum");
  t.equal(workerThreadPoolSize(16, 2, '3'), 3, "the operator's UV_THREADPOOL_SIZE wins");
  t.equal(workerThreadPoolSize(16, 2, 'lots'), 8, 'a value that is not a count is ignored');
  t.equal(workerThreadPoolSize(16, 2, '0'), 8, 'so is zero');
});
