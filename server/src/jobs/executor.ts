// What runs a job: one JobExecutor per kind, inside the job's own process (job-worker-main.ts), so a crash, a leak
// or an out-of-memory in training takes down that job and nothing else.
import type { DataDir } from '../storage/data-dir.js';
import type { Job, JobKind, JobProgress, LogLevel } from './job.js';

export interface JobContext {
  job: Job;
  /** The device kind of the slot the job runs on, and its index (the process sees only that GPU). */
  device: 'cpu' | 'cuda';
  dataDir: DataDir;
  /** Aborted on cancel, timeout or shutdown: stop at the next safe point and reject with the signal's reason. */
  signal: AbortSignal;
  progress(progress: JobProgress): void;
  log(level: LogLevel, message: string): void;
}

export interface JobExecutor {
  readonly kind: JobKind;
  /**
   * Does the job, picking up what an earlier attempt left (a finished dataset, a training checkpoint), and resolves
   * to the result recorded on the job. Throws JobFailure for reasons an operator can act on.
   */
  run(context: JobContext): Promise<Record<string, unknown>>;
}

/** A job that cannot succeed as asked, with the reason an operator can act on (bad input, missing prior, ...). */
export class JobFailure extends Error {
  override name = 'JobFailure';
}

/** A module a job process loads its executor from: its default export makes one. */
export interface ExecutorModule {
  default: () => JobExecutor | Promise<JobExecutor>;
}
