// Messages between the runner and a job process (child_process IPC, JSON).
import type { Job, JobProgress, LogLevel } from './job.js';

export interface StartMessage {
  type: 'start';
  job: Job;
  dataDir: string;
  device: 'cpu' | 'cuda';
  /** URL of the module whose default export makes the executor. */
  executor: string;
}

export type ToJob = StartMessage | { type: 'cancel'; reason: string };

export type FromJob =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'log'; level: LogLevel; message: string }
  | { type: 'succeeded'; result: Record<string, unknown> }
  /** `failure`: the executor's JobFailure (operator-actionable); otherwise an internal error with its stack. */
  | { type: 'failed'; reason: string; failure: boolean; stack?: string }
  | { type: 'cancelled' };
