// The durable job queue, as the runner and the admin API see it. SqliteJobQueue is the embedded implementation; a
// Redis or Postgres one for several nodes implements the same contract: every method is one atomic step, a claim is
// a lease that a live runner renews, and a lease that runs out means the runner is gone.
import type { Job, JobDevice, JobKind, JobLogLine, JobProgress, JobSpec, JobState, LogLevel } from './job.js';

export interface JobFilter {
  state?: JobState;
  kind?: JobKind;
  identityId?: string;
  /** At most this many, newest first (default 100). */
  limit?: number;
}

export interface ClaimRequest {
  owner: string;
  /** Device requests the caller has a free slot for. */
  devices: JobDevice[];
  /** Slot name recorded on the job (`cpu:0`, `cuda:1`). */
  slot: string;
  leaseMs: number;
}

/** What became of the jobs a dead runner held. */
export interface Recovered {
  job: Job;
  outcome: 'requeued' | 'failed' | 'cancelled';
}

export type JobChange = { type: 'job'; job: Job } | { type: 'log'; line: JobLogLine };

export class JobQueueError extends Error {
  override name = 'JobQueueError';
  constructor(
    readonly code: 'not-found' | 'conflict' | 'lost-lease',
    message: string,
  ) {
    super(message);
  }
}

export interface JobQueue {
  enqueue(spec: JobSpec): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  list(filter?: JobFilter): Promise<Job[]>;
  /** Atomically takes the best queued job (highest priority, then oldest) that one of `devices` can run. */
  claim(request: ClaimRequest): Promise<Job | undefined>;
  /** Extends the lease of a running job; throws `lost-lease` if another owner holds it or it is no longer running. */
  heartbeat(id: string, owner: string, leaseMs: number): Promise<Job>;
  setProgress(id: string, owner: string, progress: JobProgress): Promise<void>;
  log(id: string, level: LogLevel, message: string): Promise<void>;
  /** Log lines after `afterSeq`, oldest first. */
  logs(id: string, afterSeq?: number, limit?: number): Promise<JobLogLine[]>;
  succeed(id: string, owner: string, result: Record<string, unknown>): Promise<Job>;
  fail(id: string, owner: string, reason: string): Promise<Job>;
  /** Cancels a queued job at once; marks a running one so its runner stops it (then `cancelled` is recorded). */
  cancel(id: string, reason: string): Promise<Job>;
  /** Gives a running job back to the queue without using up an attempt (the runner is shutting down in order). */
  release(id: string, owner: string, reason: string): Promise<Job>;
  /** The runner confirms a running job was stopped after a cancel request. */
  cancelled(id: string, owner: string): Promise<Job>;
  /** Queues a failed or cancelled job again (it resumes from its checkpoints where it has some). */
  retry(id: string): Promise<Job>;
  /**
   * Running jobs whose lease ran out, or that `owner` held before it restarted: back to the queue while they have
   * attempts left (they resume from their checkpoints), otherwise failed with the reason.
   */
  recover(owner: string): Promise<Recovered[]>;
  /** Queued and running jobs per kind. */
  depth(): Promise<Record<JobKind, { queued: number; running: number }>>;
  /** Called on every change (state, progress, log line). Returns the unsubscribe function. */
  subscribe(listener: (change: JobChange) => void): () => void;
  close(): void;
}
