// The runner's handle on one job process: forks job-worker-main, relays its messages as typed events, stops it on
// request (cancel first, SIGKILL after a grace period) and reports how it ended exactly once.
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnhancedEventEmitter } from '../enhanced-events.js';
import type { Job, JobProgress, LogLevel } from './job.js';
import type { FromJob, StartMessage } from './job-ipc.js';

const here = fileURLToPath(import.meta.url);
/** Next to this module: job-worker-main.js once built, .ts when the tests run the sources (fork keeps the loader). */
const ENTRY = path.join(path.dirname(here), `job-worker-main${path.extname(here)}`);

export type JobOutcome =
  | { type: 'succeeded'; result: Record<string, unknown> }
  | { type: 'failed'; reason: string; failure: boolean; stack?: string }
  | { type: 'cancelled' };

export type JobProcessEvents = {
  progress: [JobProgress];
  log: [LogLevel, string];
  /** Exactly once: what the job reported, or why the process ended without saying. */
  ended: [JobOutcome];
};

export interface JobProcessOptions {
  job: Job;
  dataDir: string;
  device: 'cpu' | 'cuda';
  /** CUDA device index the process may see (CUDA_VISIBLE_DEVICES), for CUDA slots. */
  gpuIndex?: number;
  executor: string;
  /** After a stop request, how long the job may take to reach a safe point before it is killed (default 10 s). */
  stopGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class JobProcess extends EnhancedEventEmitter<JobProcessEvents> {
  readonly pid: number | undefined;
  private readonly child: ChildProcess;
  private outcome: JobOutcome | undefined;
  private stopReason: string | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly stopGraceMs: number;
  readonly exited: Promise<void>;

  constructor(options: JobProcessOptions) {
    super();
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    const env = { ...(options.env ?? process.env) };
    if (options.gpuIndex !== undefined) env.CUDA_VISIBLE_DEVICES = String(options.gpuIndex);
    this.child = fork(ENTRY, [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.pid = this.child.pid;
    // The job's own stdout/stderr become log lines (a native library's warnings, a crash report).
    for (const [stream, level] of [
      [this.child.stdout, 'info'],
      [this.child.stderr, 'warn'],
    ] as const) {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        const lines = (pending + text).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) this.safeEmit('log', level, line.slice(0, 2000));
      });
    }
    this.child.on('message', (message: FromJob) => this.onMessage(message));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        clearTimeout(this.killTimer);
        this.end(
          this.stopReason !== undefined
            ? { type: 'cancelled' }
            : {
                type: 'failed',
                failure: false,
                reason:
                  signal === 'SIGKILL'
                    ? 'the job process was killed (SIGKILL): out of memory?'
                    : `the job process exited (${signal ?? `code ${code}`}) without reporting a result`,
              },
        );
        resolve();
      });
    });
    this.child.on('error', (error) => this.end({ type: 'failed', failure: false, reason: error.message }));
    const start: StartMessage = {
      type: 'start',
      job: options.job,
      dataDir: options.dataDir,
      device: options.device,
      executor: options.executor,
    };
    this.child.send(start);
  }

  private onMessage(message: FromJob): void {
    if (message.type === 'progress') this.safeEmit('progress', message.progress);
    else if (message.type === 'log') this.safeEmit('log', message.level, message.message);
    else {
      this.end(message);
      // The job said its last word; it exits by itself, or is made to.
      this.killTimer ??= setTimeout(() => this.child.kill('SIGKILL'), this.stopGraceMs).unref();
    }
  }

  private end(outcome: JobOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.safeEmit('ended', outcome);
  }

  /** Asks the job to stop at its next safe point (it reports `cancelled`); kills it after the grace period. */
  stop(reason: string): void {
    if (this.stopReason !== undefined || this.child.exitCode !== null) return;
    this.stopReason = reason;
    if (this.child.connected) this.child.send({ type: 'cancel', reason });
    this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), this.stopGraceMs).unref();
  }

  /** Kills the process now. */
  kill(): void {
    this.stopReason ??= 'killed';
    this.child.kill('SIGKILL');
  }
}
