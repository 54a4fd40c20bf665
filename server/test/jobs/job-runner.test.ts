// The job runner with real job processes (a counting test executor): progress written through, per-slot
// concurrency, priorities, cancel, timeout, a crashing job, clean failures, shutdown and resume from checkpoints.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import t from 'tap';
import type { Job } from '../../src/jobs/job.js';
import { type DeviceSlot, JobRunner } from '../../src/jobs/job-runner.js';
import { SqliteJobQueue } from '../../src/jobs/sqlite-job-queue.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { openDatabase } from '../../src/storage/database.js';
import { type Teardown, until } from '../helpers/fixture.js';

const COUNTING = pathToFileURL(path.join(import.meta.dirname, 'executors', 'counting.ts')).href;

async function setup(t: Teardown, slots: DeviceSlot[] = [{ device: 'cpu', concurrency: 1 }], runnerOptions = {}) {
  const root = await mkdtemp(path.join(tmpdir(), 'splatcast-runner-'));
  const dataDir = new DataDir(root);
  await dataDir.prepare();
  const db = openDatabase(dataDir.database);
  const queue = new SqliteJobQueue(db);
  const ended: Job[] = [];
  const make = () =>
    new JobRunner({
      queue,
      dataDir,
      owner: 'test-node',
      slots,
      executors: { adaptation: COUNTING },
      logger: pino({ level: 'silent' }),
      pollMs: 100,
      leaseMs: 3000,
      stopGraceMs: 1500,
      progressWriteMs: 0,
      hooks: { ended: async (job) => void ended.push(job) },
      ...runnerOptions,
    });
  const runners: JobRunner[] = [];
  const runner = () => {
    const r = make();
    runners.push(r);
    return r;
  };
  t.teardown(async () => {
    for (const r of runners) await r.close();
    queue.close();
    db.close();
    await rm(root, { recursive: true, force: true });
  });
  const settle = (id: string, timeout = 90_000) =>
    until(() => settled.has(id), timeout, `job ${id} to finish`).then(() => queue.get(id) as Promise<Job>);
  const settled = new Set<string>();
  queue.subscribe((c) => {
    if (c.type === 'job' && ['succeeded', 'failed', 'cancelled'].includes(c.job.state)) settled.add(c.job.id);
  });
  /** Waits until the job has reported progress (its process is up and working). */
  const working = async (id: string) => {
    let seen = false;
    const off = queue.subscribe((c) => {
      if (c.type === 'job' && c.job.id === id && c.job.progress) seen = true;
    });
    await until(() => seen, 60_000, `job ${id} to make progress`);
    off();
  };
  return { queue, dataDir, runner, settle, ended, working };
}

t.test('a job runs to the end in its own process, with progress and logs', async (t) => {
  const { queue, runner, settle, dataDir } = await setup(t);
  const job = await queue.enqueue({ kind: 'adaptation', params: { steps: 5 } });
  const progress: number[] = [];
  queue.subscribe((c) => {
    const at = c.type === 'job' ? c.job.progress?.iteration : undefined;
    if (at && at !== progress.at(-1)) progress.push(at);
  });
  await runner().start();
  const done = await settle(job.id);
  t.equal(done.state, 'succeeded');
  t.same(done.result, { counted: 5, resumedFrom: 0 });
  t.same(done.progress, { stage: 'counting', iteration: 5, total: 5, loss: 0.2 });
  t.same(progress, [1, 2, 3, 4, 5], 'every progress report reached the queue');
  const logs = (await queue.logs(job.id)).map((l) => l.message);
  t.match(logs, [/started on cpu \(attempt 1 of 3\)/, 'counting from 0 to 5']);
  t.equal(await readFile(path.join(dataDir.job(job.id), 'start-1'), 'utf8'), '0 cpu ');
});

t.test('one job per slot at a time, highest priority first; CUDA slots see only their GPU', async (t) => {
  const { queue, runner, settle, dataDir } = await setup(t, [
    { device: 'cpu', concurrency: 1 },
    { device: 'cuda', gpuIndex: 1, concurrency: 2 },
  ]);
  const params = { steps: 8, stepMs: 40 };
  const cpu = [
    await queue.enqueue({ kind: 'adaptation', params, device: 'cpu', priority: 0 }),
    await queue.enqueue({ kind: 'adaptation', params, device: 'cpu', priority: 5 }),
  ];
  const gpu = await Promise.all([0, 1, 2].map(() => queue.enqueue({ kind: 'adaptation', params, device: 'auto' })));
  let most = { cpu: 0, cuda: 0 };
  queue.subscribe(() => {
    void queue.list({ state: 'running' }).then((running) => {
      const n = (slot: string) => running.filter((j) => j.assignedDevice === slot).length;
      most = { cpu: Math.max(most.cpu, n('cpu')), cuda: Math.max(most.cuda, n('cuda:1')) };
    });
  });
  await runner().start();
  const finished = await Promise.all([...cpu, ...gpu].map((j) => settle(j.id)));
  t.ok(
    finished.every((j) => j.state === 'succeeded'),
    'all succeeded',
  );
  t.same(most, { cpu: 1, cuda: 2 }, 'concurrency limits held');
  t.ok(
    ((await queue.get(cpu[1]?.id as string))?.startedAt as string) <=
      ((await queue.get(cpu[0]?.id as string))?.startedAt as string),
    'the priority-5 CPU job started first',
  );
  t.ok(
    gpu.every((j) => finished.find((f) => f.id === j.id)?.assignedDevice === 'cuda:1'),
    '"auto" goes to the GPU when there is one',
  );
  t.equal(await readFile(path.join(dataDir.job(gpu[0]?.id as string), 'start-1'), 'utf8'), '0 cuda 1');
});

t.test('cancel stops a running job; a job ignoring it is killed after the grace period', async (t) => {
  const { queue, runner, settle, working } = await setup(t);
  await runner().start();
  const job = await queue.enqueue({ kind: 'adaptation', params: { steps: 1000, stepMs: 20 } });
  await working(job.id);
  await queue.cancel(job.id, 'changed my mind');
  const done = await settle(job.id);
  t.equal(done.state, 'cancelled');
  t.equal(done.error, 'changed my mind');
  t.ok((done.progress?.iteration ?? 1000) < 1000, 'stopped early');

  const stubborn = await queue.enqueue({ kind: 'adaptation', params: { steps: 1000, stepMs: 20, ignoreCancel: true } });
  await working(stubborn.id);
  const asked = performance.now();
  await queue.cancel(stubborn.id, 'stop now');
  t.equal((await settle(stubborn.id)).state, 'cancelled');
  t.ok(performance.now() - asked >= 1400, 'killed after the grace period');
});

t.test('timeouts, clean failures and crashes are failed with their reasons', async (t) => {
  const { queue, runner, settle, ended } = await setup(t);
  const slow = await queue.enqueue({ kind: 'adaptation', params: { steps: 1000, stepMs: 20 }, timeoutSeconds: 1 });
  const unlucky = await queue.enqueue({ kind: 'adaptation', params: { steps: 5, failAt: 2 } });
  const crash = await queue.enqueue({ kind: 'adaptation', params: { steps: 5, crashAt: 1 } });
  const orphan = await queue.enqueue({ kind: 'pretraining', params: {} });
  await runner().start();
  t.match((await settle(slow.id)).error, 'timed out: the job ran past its 1 s limit');
  t.equal((await settle(unlucky.id)).error, 'step 2 is unlucky');
  t.equal((await settle(crash.id)).error, 'internal error: the job process exited (code 7) without reporting a result');
  t.equal((await settle(orphan.id)).error, 'this server has no executor for pretraining jobs');
  t.same(ended.map((j) => j.id).sort(), [slow.id, unlucky.id, crash.id].sort(), 'the ended hook heard each failure');
});

t.test('shutdown gives the job back; the next start resumes from its checkpoint', async (t) => {
  const { queue, runner, settle, dataDir, working } = await setup(t);
  const job = await queue.enqueue({ kind: 'adaptation', params: { steps: 60, stepMs: 50 } });
  const first = runner();
  await first.start();
  await working(job.id);
  await new Promise((r) => setTimeout(r, 500));
  await first.close();
  const paused = await queue.get(job.id);
  t.equal(paused?.state, 'queued');
  t.equal(paused?.attempts, 0, 'an orderly shutdown uses up no attempt');
  const reached = paused?.progress?.iteration ?? 0;
  t.ok(reached > 0 && reached < 60, `stopped at step ${reached}`);
  await runner().start();
  const done = await settle(job.id, 30000);
  t.equal(done.state, 'succeeded');
  const resumedFrom = done.result?.resumedFrom as number;
  t.ok(resumedFrom >= reached && resumedFrom < 60, `resumed from the checkpoint (step ${resumedFrom})`);
  t.same(
    (await readdir(dataDir.job(job.id))).filter((f) => f.startsWith('start-')).sort(),
    ['start-1'],
    'attempt numbering restarted after the release',
  );
});
