// What a job is: its kind, where it stands, how far it got. Shared by the queue, the runner, the executors and the
// admin API.

export const JOB_KINDS = ['adaptation', 'pretraining'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Which device a job may run on: `auto` is CUDA when the runner has GPUs, else the CPU. */
export const JOB_DEVICES = ['auto', 'cpu', 'cuda'] as const;
export type JobDevice = (typeof JOB_DEVICES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface JobProgress {
  /** `probing`, `tracking`, `training`, ... (the executor names them). */
  stage: string;
  /** Work done and total within the stage (frames, iterations), when countable. */
  iteration?: number;
  total?: number;
  loss?: number;
  psnr?: number;
  /** Seconds left in the whole job, when the executor can tell. */
  etaSeconds?: number;
}

export interface Job {
  id: string;
  kind: JobKind;
  state: JobState;
  /** Higher runs first; equal priorities run in submission order. */
  priority: number;
  device: JobDevice;
  identityId: string | null;
  params: Record<string, unknown>;
  /** Times the job was started (a restart that resumes it counts one more). */
  attempts: number;
  maxAttempts: number;
  timeoutSeconds: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The runner holding it while it runs, and until when its lease holds (ms since the epoch). */
  owner: string | null;
  leaseUntil: number | null;
  /** The device slot it runs on, e.g. `cpu:0`, `cuda:1`. */
  assignedDevice: string | null;
  cancelRequested: boolean;
  progress: JobProgress | null;
  /** Why it failed or was cancelled. */
  error: string | null;
  result: Record<string, unknown> | null;
}

export interface JobLogLine {
  seq: number;
  jobId: string;
  at: string;
  level: LogLevel;
  message: string;
}

export interface JobSpec {
  kind: JobKind;
  params: Record<string, unknown>;
  identityId?: string | null;
  priority?: number;
  device?: JobDevice;
  maxAttempts?: number;
  timeoutSeconds?: number;
}

export const isFinished = (state: JobState): boolean => state !== 'queued' && state !== 'running';
