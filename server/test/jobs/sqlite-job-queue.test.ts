// The SQLite job queue: ordering, device matching, leases, cancellation, retry, recovery after a dead runner, logs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { JobChange } from '../../src/jobs/job-queue.js';
import { SqliteJobQueue } from '../../src/jobs/sqlite-job-queue.js';
import { openDatabase } from '../../src/storage/database.js';
import type { Teardown } from '../helpers/fixture.js';

async function queue(t: Teardown, now?: () => number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-queue-'));
  const db = openDatabase(path.join(dir, 'q.db'));
  const q = new SqliteJobQueue(db, { now, maxLogLines: 150 });
  t.teardown(async () => {
    q.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { q, db, file: path.join(dir, 'q.db') };
}

const claim = (q: SqliteJobQueue, devices: ('auto' | 'cpu' | 'cuda')[] = ['auto', 'cpu'], owner = 'a') =>
  q.claim({ owner, devices, slot: 'cpu', leaseMs: 1000 });

t.test('higher priority first, then submission order; device requests must match', async (t) => {
  const { q } = await queue(t);
  const low = await q.enqueue({ kind: 'adaptation', params: {}, priority: 0 });
  const gpu = await q.enqueue({ kind: 'adaptation', params: {}, priority: 9, device: 'cuda' });
  const high = await q.enqueue({ kind: 'pretraining', params: { x: 1 }, priority: 5 });
  const low2 = await q.enqueue({ kind: 'adaptation', params: {}, priority: 0 });
  t.equal((await claim(q))?.id, high.id);
  t.equal((await claim(q))?.id, low.id);
  t.equal((await claim(q))?.id, low2.id);
  t.equal(await claim(q), undefined, 'the CUDA job waits for a CUDA slot');
  const got = await claim(q, ['cuda']);
  t.equal(got?.id, gpu.id);
  t.equal(got?.state, 'running');
  t.equal(got?.attempts, 1);
  t.same((await q.get(high.id))?.params, { x: 1 });
  t.same(await q.depth(), { adaptation: { queued: 0, running: 3 }, pretraining: { queued: 0, running: 1 } });
});

t.test('leases: heartbeat, progress and outcome need the owner', async (t) => {
  const { q } = await queue(t);
  const job = await q.enqueue({ kind: 'adaptation', params: {} });
  await claim(q, ['auto'], 'a');
  await t.rejects(q.heartbeat(job.id, 'b', 1000), { code: 'lost-lease' });
  await t.rejects(q.setProgress(job.id, 'b', { stage: 'x' }), { code: 'lost-lease' });
  await q.setProgress(job.id, 'a', { stage: 'training', iteration: 3, total: 10, loss: 0.5 });
  t.same((await q.get(job.id))?.progress, { stage: 'training', iteration: 3, total: 10, loss: 0.5 });
  const done = await q.succeed(job.id, 'a', { package: 'x' });
  t.equal(done.state, 'succeeded');
  t.ok(done.finishedAt);
  t.equal(done.owner, null);
  await t.rejects(q.fail(job.id, 'a', 'late'), { code: 'lost-lease' }, 'a finished job cannot change again');
  await t.rejects(q.get('job_00000000000000000000').then((j) => j ?? Promise.reject(new Error('none'))));
});

t.test('cancel: queued at once, running on request; retry queues again with fresh attempts', async (t) => {
  const { q } = await queue(t);
  const queued = await q.enqueue({ kind: 'adaptation', params: {} });
  const running = await q.enqueue({ kind: 'adaptation', params: {} });
  await q.claim({ owner: 'a', devices: ['auto'], slot: 'cpu', leaseMs: 1000 });
  // The first claim took `queued` (older); cancel the other one while queued instead.
  const c1 = await q.cancel(running.id, 'not needed');
  t.equal(c1.state, 'cancelled');
  t.equal(c1.error, 'not needed');
  const c2 = await q.cancel(queued.id, 'stop it');
  t.equal(c2.state, 'running', 'a running job keeps running until its runner stops it');
  t.equal(c2.cancelRequested, true);
  t.equal((await q.cancelled(queued.id, 'a')).state, 'cancelled');
  await t.rejects(q.cancel(queued.id, 'again'), { code: 'conflict' });
  const again = await q.retry(queued.id);
  t.equal(again.state, 'queued');
  t.equal(again.attempts, 0);
  t.equal(again.cancelRequested, false);
  t.equal(again.error, null);
  await t.rejects(q.retry(queued.id), { code: 'conflict' }, 'a queued job cannot be retried');
  await t.rejects(q.cancel('job_ffffffffffffffffffff', 'x'), { code: 'not-found' });
});

t.test('recovery: requeued while attempts remain, then failed with the reason; survives reopening', async (t) => {
  let clock = 1_000_000;
  const { q, file } = await queue(t, () => clock);
  const job = await q.enqueue({ kind: 'adaptation', params: {}, maxAttempts: 2 });
  await claim(q, ['auto'], 'node-1');
  await q.setProgress(job.id, 'node-1', { stage: 'training', iteration: 40, total: 100 });
  t.same(await q.recover('node-2'), [], 'a live lease held by another node is left alone');
  clock += 5000;
  const [first] = await q.recover('node-2');
  t.equal(first?.outcome, 'requeued');
  t.equal(first?.job.state, 'queued');
  t.match((await q.logs(job.id)).at(-1)?.message, /interrupted during training: its runner node-1 stopped renewing/);

  // A second database handle on the same file sees the same state: it is on disk, not in memory.
  const other = new SqliteJobQueue(openDatabase(file), { now: () => clock });
  t.equal((await other.get(job.id))?.state, 'queued');
  await claim(other, ['auto'], 'node-2');
  const [second] = await other.recover('node-2');
  t.equal(second?.outcome, 'failed', 'node-2 restarted while running it: no attempts left');
  t.equal(second?.job.state, 'failed');
  t.match(second?.job.error, /interrupted during training: the server restarted, and it has used all 2 attempts/);
});

t.test('release gives the attempt back; a cancel requested before a crash ends as cancelled', async (t) => {
  const { q } = await queue(t);
  const job = await q.enqueue({ kind: 'pretraining', params: {} });
  await claim(q);
  const released = await q.release(job.id, 'a', 'shutting down');
  t.equal(released.state, 'queued');
  t.equal(released.attempts, 0);
  await claim(q);
  await q.cancel(job.id, 'stop');
  const [r] = await q.recover('a');
  t.equal(r?.outcome, 'cancelled');
  t.equal(r?.job.state, 'cancelled');
});

t.test('logs: ordered, paged, bounded per job; changes are published', async (t) => {
  const { q } = await queue(t);
  const changes: JobChange[] = [];
  q.subscribe((c) => changes.push(c));
  q.subscribe(() => {
    throw new Error('a broken listener');
  });
  const job = await q.enqueue({ kind: 'adaptation', params: {} });
  for (let i = 0; i < 320; i++) await q.log(job.id, 'info', `line ${i}`);
  const lines = await q.logs(job.id, 0, 1000);
  t.ok(lines.length <= 250 && lines.length >= 150, `bounded (${lines.length} kept)`);
  t.equal(lines.at(-1)?.message, 'line 319');
  const after = await q.logs(job.id, lines.at(-3)?.seq);
  t.same(
    after.map((l) => l.message),
    ['line 318', 'line 319'],
  );
  t.equal(changes.filter((c) => c.type === 'log').length, 320);
  t.equal(changes[0]?.type, 'job');
  const long = 'x'.repeat(10_000);
  await q.log(job.id, 'warn', long);
  t.equal((await q.logs(job.id, 0, 1000)).at(-1)?.message.length, 4001, 'long lines are cut');
  await t.rejects(q.logs('job_ffffffffffffffffffff'), { code: 'not-found' });
});
