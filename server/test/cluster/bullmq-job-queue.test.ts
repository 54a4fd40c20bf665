// The BullMQ job queue against a real redis-server: the same contract as the SQLite queue (ordering, device
// matching, leases, cancel, retry, release, recovery, logs, changes) and what several nodes add: one claim per job
// however many nodes race for it, leases that really expire, and changes seen on every node.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { BullmqJobQueue } from '../../src/cluster/bullmq-job-queue.js';
import type { JobChange } from '../../src/jobs/job-queue.js';
import type { Teardown } from '../helpers/fixture.js';
import { until } from '../helpers/fixture.js';
import { redisAvailable, startRedis } from './redis-server.js';

if (redisAvailable !== true) {
  t.skip(`BullMQ job queue tests: ${redisAvailable}`);
} else {
  const redisUrl = await startRedis(t);

  /** A queue on its own prefix (each test its own namespace); `shared` gives a second node on the same one. */
  const queue = async (t: Teardown, o: { now?: () => number; prefix?: string } = {}) => {
    const q = await BullmqJobQueue.connect({
      redisUrl,
      prefix: o.prefix ?? `t${randomUUID().slice(0, 8)}`,
      maxLogLines: 150,
      ...(o.now ? { now: o.now } : {}),
    });
    t.teardown(() => q.shutdown());
    return q;
  };
  const claim = (
    q: BullmqJobQueue,
    devices: ('auto' | 'cpu' | 'cuda')[] = ['auto', 'cpu'],
    owner = 'a',
    leaseMs = 5000,
  ) => q.claim({ owner, devices, slot: 'cpu', leaseMs });

  t.test('higher priority first, then submission order; device requests must match', async (t) => {
    const q = await queue(t);
    const low = await q.enqueue({ kind: 'adaptation', params: {}, priority: 0 });
    const gpu = await q.enqueue({ kind: 'adaptation', params: {}, priority: 9, device: 'cuda' });
    const high = await q.enqueue({ kind: 'pretraining', params: { x: 1 }, priority: 5, device: 'cpu' });
    const low2 = await q.enqueue({ kind: 'adaptation', params: {}, priority: 0 });
    t.equal((await claim(q))?.id, high.id, 'across the auto and cpu queues, priority wins');
    t.equal((await claim(q))?.id, low.id);
    t.equal((await claim(q))?.id, low2.id);
    t.equal(await claim(q), undefined, 'the CUDA job waits for a CUDA slot');
    const got = await claim(q, ['cuda']);
    t.equal(got?.id, gpu.id);
    t.match(got, { state: 'running', attempts: 1, owner: 'a', assignedDevice: 'cpu' });
    t.same((await q.get(high.id))?.params, { x: 1 });
    t.same(await q.depth(), { adaptation: { queued: 0, running: 3 }, pretraining: { queued: 0, running: 1 } });
    t.same(
      (await q.list({ state: 'running', kind: 'pretraining' })).map((j) => j.id),
      [high.id],
    );
    t.same(
      (await q.list({ limit: 2 })).map((j) => j.id),
      [low2.id, high.id],
      'newest first',
    );
  });

  t.test('leases: heartbeat, progress and outcome need the owner', async (t) => {
    const q = await queue(t);
    const job = await q.enqueue({ kind: 'adaptation', params: {} });
    await claim(q, ['auto'], 'a');
    await t.rejects(q.heartbeat(job.id, 'b', 1000), { code: 'lost-lease' });
    await t.rejects(q.setProgress(job.id, 'b', { stage: 'x' }), { code: 'lost-lease' });
    t.ok((await q.heartbeat(job.id, 'a', 5000)).leaseUntil, 'the owner renews');
    await q.setProgress(job.id, 'a', { stage: 'training', iteration: 3, total: 10, loss: 0.5 });
    t.same((await q.get(job.id))?.progress, { stage: 'training', iteration: 3, total: 10, loss: 0.5 });
    const done = await q.succeed(job.id, 'a', { package: 'x' });
    t.match(done, { state: 'succeeded', owner: null, result: { package: 'x' } });
    t.ok(done.finishedAt);
    await t.rejects(q.fail(job.id, 'a', 'late'), { code: 'lost-lease' }, 'a finished job cannot change again');
    t.equal(await q.get('job_00000000000000000000'), undefined);
    t.equal(await claim(q), undefined, 'nothing left in the queue');
  });

  t.test('a lease that runs out in Redis is lost for real', async (t) => {
    const q = await queue(t);
    const job = await q.enqueue({ kind: 'adaptation', params: {} });
    await claim(q, ['auto'], 'a', 300);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await t.rejects(q.heartbeat(job.id, 'a', 300), { code: 'lost-lease' }, 'BullMQ dropped the lock');
    await t.rejects(q.succeed(job.id, 'a', {}), { code: 'lost-lease' }, 'and refuses the finish');
  });

  t.test('cancel: queued at once, running on request; retry queues again with fresh attempts', async (t) => {
    const q = await queue(t);
    const first = await q.enqueue({ kind: 'adaptation', params: {} });
    const second = await q.enqueue({ kind: 'adaptation', params: {} });
    await claim(q, ['auto']);
    const c1 = await q.cancel(second.id, 'not needed');
    t.match(c1, { state: 'cancelled', error: 'not needed' });
    t.equal(await claim(q), undefined, 'a cancelled job is out of the queue');
    const c2 = await q.cancel(first.id, 'stop it');
    t.match(c2, { state: 'running', cancelRequested: true }, 'a running job runs until its runner stops it');
    t.equal((await q.cancelled(first.id, 'a')).state, 'cancelled');
    await t.rejects(q.cancel(first.id, 'again'), { code: 'conflict' });
    const again = await q.retry(first.id);
    t.match(again, { state: 'queued', attempts: 0, cancelRequested: false, error: null });
    await t.rejects(q.retry(first.id), { code: 'conflict' }, 'a queued job cannot be retried');
    t.equal((await claim(q))?.id, first.id, 'the retried job is claimable again');
    await t.rejects(q.cancel('job_ffffffffffffffffffff', 'x'), { code: 'not-found' });
  });

  t.test('recovery: requeued while attempts remain, then failed with the reason, from another node', async (t) => {
    let clock = 1_000_000;
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const q = await queue(t, { now: () => clock, prefix });
    const job = await q.enqueue({ kind: 'adaptation', params: {}, maxAttempts: 2 });
    await claim(q, ['auto'], 'node-1', 300);
    await q.setProgress(job.id, 'node-1', { stage: 'training', iteration: 40, total: 100 });
    t.same(await q.recover('node-2'), [], 'a live lease held by another node is left alone');
    clock += 5000;
    await new Promise((resolve) => setTimeout(resolve, 400));
    const [first] = await q.recover('node-2');
    t.equal(first?.outcome, 'requeued');
    t.equal(first?.job.state, 'queued');
    t.match((await q.logs(job.id)).at(-1)?.message, /interrupted during training: its runner node-1 stopped renewing/);

    const other = await queue(t, { now: () => clock, prefix });
    t.equal((await other.get(job.id))?.state, 'queued', 'another node sees the same state');
    t.match(await claim(other, ['auto'], 'node-2'), { id: job.id, attempts: 2 });
    const [second] = await other.recover('node-2');
    t.equal(second?.outcome, 'failed', 'node-2 restarted while running it: no attempts left');
    t.match(second?.job.error, /interrupted during training: the server restarted, and it has used all 2 attempts/);
    t.equal(await claim(other, ['auto'], 'node-3'), undefined, 'a failed job is not claimable');
  });

  t.test('release gives the attempt back; a cancel requested before a crash ends as cancelled', async (t) => {
    const q = await queue(t);
    const job = await q.enqueue({ kind: 'pretraining', params: {} });
    await claim(q);
    const released = await q.release(job.id, 'a', 'shutting down');
    t.match(released, { state: 'queued', attempts: 0, owner: null });
    t.match((await q.logs(job.id)).at(-1), { message: 'shutting down' });
    await claim(q);
    await q.cancel(job.id, 'stop');
    const [r] = await q.recover('a');
    t.equal(r?.outcome, 'cancelled');
    t.equal(r?.job.state, 'cancelled');
  });

  t.test('several nodes racing: every job is claimed exactly once', async (t) => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const nodes = await Promise.all([1, 2, 3].map(() => queue(t, { prefix })));
    const ids = new Set<string>();
    for (let i = 0; i < 12; i++)
      ids.add((await (nodes[0] as BullmqJobQueue).enqueue({ kind: 'adaptation', params: {} })).id);
    const claimed: string[] = [];
    await Promise.all(
      nodes.map(async (q, n) => {
        for (;;) {
          const job = await claim(q, ['auto'], `node-${n}`);
          if (!job) return;
          claimed.push(job.id);
        }
      }),
    );
    t.equal(claimed.length, 12, 'twelve claims');
    t.same(new Set(claimed), ids, 'each job once');
  });

  t.test('logs: ordered, paged, bounded; changes reach the other nodes', async (t) => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const q = await queue(t, { prefix });
    const remote = await queue(t, { prefix });
    const local: JobChange[] = [];
    const seen: JobChange[] = [];
    q.subscribe((c) => local.push(c));
    const unsubscribe = q.subscribe(() => {
      unsubscribe();
      throw new Error('a broken listener (logged once, the others still hear every change)');
    });
    remote.subscribe((c) => seen.push(c));
    const job = await q.enqueue({ kind: 'adaptation', params: {} });
    for (let i = 0; i < 200; i++) await q.log(job.id, 'info', `line ${i}`);
    const lines = await q.logs(job.id, 0, 1000);
    t.equal(lines.length, 150, 'the newest 150 kept');
    t.equal(lines.at(-1)?.message, 'line 199');
    const after = await q.logs(job.id, lines.at(-3)?.seq);
    t.same(
      after.map((l) => l.message),
      ['line 198', 'line 199'],
    );
    t.equal(local.filter((c) => c.type === 'log').length, 200);
    await until(() => seen.filter((c) => c.type === 'log').length === 200, 5000, 'the other node to hear every line');
    t.match(seen[0], { type: 'job', job: { id: job.id, state: 'queued' } });
    await q.log(job.id, 'warn', 'x'.repeat(10_000));
    t.equal((await q.logs(job.id, 0, 1000)).at(-1)?.message.length, 4001, 'long lines are cut');
    await t.rejects(q.logs('job_ffffffffffffffffffff'), { code: 'not-found' });
  });

  t.test('an unreachable Redis is a clear error', async (t) => {
    await t.rejects(BullmqJobQueue.connect({ redisUrl: 'redis://127.0.0.1:1' }), /cannot connect/);
  });
}
