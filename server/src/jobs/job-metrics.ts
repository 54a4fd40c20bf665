// The job metrics, in the shared registry: queue depth, job and stage durations, outcomes.
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../metrics/registry.js';
import type { JobQueue } from './job-queue.js';

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600, 7200, 14400];

export const jobStageSeconds = new Histogram({
  name: 'splatcast_job_stage_seconds',
  help: 'Time jobs spent in each stage (probing, tracking, training, ...)',
  labelNames: ['kind', 'stage'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});

export const jobSeconds = new Histogram({
  name: 'splatcast_job_seconds',
  help: 'Run time of one job attempt, by how it ended',
  labelNames: ['kind', 'outcome'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});

export const jobsFinished = new Counter({
  name: 'splatcast_jobs_finished_total',
  help: 'Job attempts that ended, by outcome (succeeded, failed, cancelled, timeout, released)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
});

let depthSource: JobQueue | undefined;

/** Queue depth, read from the queue at scrape time. */
new Gauge({
  name: 'splatcast_job_queue_depth',
  help: 'Jobs queued or running, by kind',
  labelNames: ['kind', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    if (!depthSource) return;
    for (const [kind, counts] of Object.entries(await depthSource.depth()))
      for (const [state, n] of Object.entries(counts)) this.set({ kind, state }, n);
  },
});

/** Makes the depth gauge read `queue` (the process has one). */
export function measureQueue(queue: JobQueue | undefined): void {
  depthSource = queue;
}
