// The existing job runner (server/src/jobs) on the BullMQ queue, unchanged: two runners as two nodes on one Redis
// share the work, real job processes (the counting test executor) report progress through it, and a cancel made
// on one node stops the job running on the other.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import t from 'tap';
import { BullmqJobQueue } from '../../src/cluster/bullmq-job-queue.js';
import type { Job } from '../../src/jobs/job.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { until } from '../helpers/fixture.js';
import { redisAvailable, startRedis } from './redis-server.js';

const COUNTING = pathToFileURL(path.join(import.meta.dirname, '..', 'jobs', 'executors', 'counting.ts')).href;

t.test(
  'two nodes run jobs from one Redis queue',
  { skip: redisAvailable === true ? false : redisAvailable },
  async (t) => {
    const redisUrl = await startRedis(t);
    const prefix = `r${randomUUID().slice(0, 8)}`;
    const root = await mkdtemp(path.join(tmpdir(), 'splatcast-bullmq-runner-'));
    t.teardown(() => rm(root, { recursive: true, force: true }));
    const dataDir = new DataDir(root);
    await dataDir.prepare();
    const node = async (owner: string) => {
      const queue = await BullmqJobQueue.connect({ redisUrl, prefix });
      const runner = new JobRunner({
        queue,
        dataDir,
        owner,
        slots: [{ device: 'cpu', concurrency: 1 }],
        executors: { adaptation: COUNTING },
        logger: pino({ level: 'silent' }),
        pollMs: 100,
        leaseMs: 3000,
        stopGraceMs: 1500,
        progressWriteMs: 0,
      });
      t.teardown(async () => {
        await runner.close();
        await queue.shutdown();
      });
      return { queue, runner };
    };
    const a = await node('node-a');
    const b = await node('node-b');
    const finished = new Map<string, Job>();
    a.queue.subscribe((c) => {
      if (c.type === 'job' && ['succeeded', 'failed', 'cancelled'].includes(c.job.state)) finished.set(c.job.id, c.job);
    });
    const jobs = await Promise.all(
      [0, 1, 2, 3].map(() => a.queue.enqueue({ kind: 'adaptation', params: { steps: 4, stepMs: 50 } })),
    );
    const long = await a.queue.enqueue({ kind: 'adaptation', params: { steps: 400, stepMs: 50 }, priority: -1 });
    await a.runner.start();
    await b.runner.start();
    await until(() => jobs.every((j) => finished.has(j.id)), 120_000, 'the four short jobs');
    for (const j of jobs) {
      const done = finished.get(j.id) as Job;
      t.match(done, { state: 'succeeded', result: { counted: 4 } });
      const started = (await a.queue.logs(j.id)).find((l) => /started on/.test(l.message));
      t.ok(started, `job ${j.id} logged its start`);
    }
    const logs = await Promise.all(jobs.map((j) => a.queue.logs(j.id)));
    t.ok(
      logs.every((l) => l.some((x) => x.message === 'counting from 0 to 4')),
      "every job's own log lines came through",
    );
    await until(async () => (await a.queue.get(long.id))?.progress !== null, 60_000, 'the long job to start');
    const runningOn = (await a.queue.get(long.id))?.owner;
    t.ok(runningOn === 'node-a' || runningOn === 'node-b', `the long job runs on ${runningOn}`);
    // Cancel through the node that does not run it.
    const other = runningOn === 'node-a' ? b : a;
    await other.queue.cancel(long.id, 'cancelled from the other node');
    await until(() => finished.has(long.id), 30_000, 'the long job to stop');
    t.match(finished.get(long.id), { state: 'cancelled', error: 'cancelled from the other node' });
  },
);
