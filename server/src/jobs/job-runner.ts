// Runs queued jobs: claims them into device slots (per-GPU concurrency limits), starts one job process each, renews
// their leases, writes their progress and logs through to the queue, enforces timeouts and cancellation, and on an
// orderly shutdown gives running jobs back to the queue so the next start resumes them.
import type { Logger } from 'pino';
import type { DataDir } from '../storage/data-dir.js';
import { isFinished, type Job, type JobDevice, type JobKind, type JobProgress } from './job.js';
import { jobSeconds, jobStageSeconds, jobsFinished } from './job-metrics.js';
import { type JobOutcome, JobProcess } from './job-process.js';
import { type JobQueue, JobQueueError } from './job-queue.js';

export interface DeviceSlot {
  device: 'cpu' | 'cuda';
  /** CUDA device index (for `cuda`). */
  gpuIndex?: number;
  /** Jobs this device runs at once. */
  concurrency: number;
}

export interface JobHooks {
  /** Before a job is recorded as succeeded (e.g. the identity becomes ready); a throw fails the job instead. */
  succeeded?(job: Job, result: Record<string, unknown>): Promise<void>;
  /** After a job failed or was cancelled for good. */
  ended?(job: Job): Promise<void>;
}

export interface JobRunnerOptions {
  queue: JobQueue;
  dataDir: DataDir;
  /** This runner's name in leases; stable across restarts of the same node (default: hostname). */
  owner: string;
  slots: DeviceSlot[];
  /** Per kind, the URL of the module that makes its executor. */
  executors: Partial<Record<JobKind, string>>;
  logger: Logger;
  hooks?: JobHooks;
  pollMs?: number;
  leaseMs?: number;
  stopGraceMs?: number;
  /** Progress is written through to the queue at most this often (stage changes always are). */
  progressWriteMs?: number;
  env?: NodeJS.ProcessEnv;
}

type StopCause = 'cancel' | 'timeout' | 'shutdown' | 'lost-lease';

interface Running {
  job: Job;
  slot: SlotState;
  process: JobProcess;
  startedAt: number;
  stage: { name: string; since: number } | undefined;
  lastWrite: number;
  pendingProgress: JobProgress | undefined;
  stopCause: StopCause | undefined;
  timers: NodeJS.Timeout[];
  done: Promise<void>;
}

interface SlotState {
  spec: DeviceSlot;
  name: string;
  busy: number;
}

export class JobRunner {
  private readonly slots: SlotState[];
  private readonly running = new Map<string, Running>();
  private readonly unsubscribe: () => void;
  private pollTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly progressWriteMs: number;

  constructor(private readonly options: JobRunnerOptions) {
    this.pollMs = options.pollMs ?? 2000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.progressWriteMs = options.progressWriteMs ?? 1000;
    this.slots = options.slots
      .filter((s) => s.concurrency > 0)
      .map((spec) => ({ spec, name: spec.device === 'cpu' ? 'cpu' : `cuda:${spec.gpuIndex ?? 0}`, busy: 0 }));
    this.unsubscribe = options.queue.subscribe((change) => {
      if (change.type !== 'job') return;
      if (change.job.state === 'queued') this.wake();
      const run = this.running.get(change.job.id);
      if (run && change.job.cancelRequested) this.stop(run, 'cancel');
    });
  }

  /** Whether any slot runs on CUDA (then `auto` jobs go to GPUs only). */
  get hasCuda(): boolean {
    return this.slots.some((s) => s.spec.device === 'cuda');
  }

  /** Device requests this runner can serve at all. */
  get devices(): JobDevice[] {
    return ['auto', ...new Set(this.slots.map((s) => s.spec.device))];
  }

  get runningJobs(): number {
    return this.running.size;
  }

  /** Recovers what a previous run of this node left running, then starts claiming. */
  async start(): Promise<void> {
    for (const { job, outcome } of await this.options.queue.recover(this.options.owner)) {
      this.options.logger.warn({ jobId: job.id, outcome }, `job ${job.id} was interrupted: ${outcome}`);
      if (outcome !== 'requeued') await this.options.hooks?.ended?.(job);
    }
    this.pollTimer = setInterval(() => this.wake(), this.pollMs);
    this.pollTimer.unref();
    this.wake();
  }

  /** Looks for work now (coalesced: one claim pass at a time). */
  wake(): void {
    if (this.closed) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.claimAll()
      .catch((error) => this.options.logger.error({ err: error }, 'claiming jobs failed'))
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async claimAll(): Promise<void> {
    for (const slot of this.slots) {
      while (!this.closed && slot.busy < slot.spec.concurrency) {
        const devices: JobDevice[] =
          slot.spec.device === 'cuda' ? ['cuda', 'auto'] : this.hasCuda ? ['cpu'] : ['cpu', 'auto'];
        const job = await this.options.queue.claim({
          owner: this.options.owner,
          devices,
          slot: slot.name,
          leaseMs: this.leaseMs,
        });
        if (!job) break;
        this.launch(job, slot);
      }
    }
  }

  private launch(job: Job, slot: SlotState): void {
    const { logger, queue } = this.options;
    const log = logger.child({ jobId: job.id, kind: job.kind, slot: slot.name });
    const executor = this.options.executors[job.kind];
    slot.busy++;
    if (!executor) {
      slot.busy--;
      void queue.fail(job.id, this.options.owner, `this server has no executor for ${job.kind} jobs`);
      return;
    }
    log.info({ attempt: job.attempts }, `job started on ${slot.name} (attempt ${job.attempts} of ${job.maxAttempts})`);
    void queue.log(job.id, 'info', `started on ${slot.name} (attempt ${job.attempts} of ${job.maxAttempts})`);
    const process = new JobProcess({
      job,
      dataDir: this.options.dataDir.root,
      device: slot.spec.device,
      gpuIndex: slot.spec.device === 'cuda' ? (slot.spec.gpuIndex ?? 0) : undefined,
      executor,
      stopGraceMs: this.options.stopGraceMs,
      env: this.options.env,
    });
    let endRun!: () => void;
    const run: Running = {
      job,
      slot,
      process,
      startedAt: performance.now(),
      stage: undefined,
      lastWrite: 0,
      pendingProgress: undefined,
      stopCause: undefined,
      timers: [],
      done: new Promise((resolve) => {
        endRun = resolve;
      }),
    };
    this.running.set(job.id, run);
    run.timers.push(
      setInterval(() => this.renew(run), Math.max(50, this.leaseMs / 3)),
      setTimeout(() => this.stop(run, 'timeout'), job.timeoutSeconds * 1000),
    );
    process.on('progress', (progress) => this.onProgress(run, progress));
    process.on('log', (level, message) => {
      log[level === 'debug' ? 'debug' : level]({ job: message }, message);
      void queue.log(job.id, level, message).catch(() => {});
    });
    process.on('ended', (outcome) => {
      this.finish(run, outcome, log)
        .catch((error) => log.error({ err: error }, 'recording the job outcome failed'))
        .finally(() => {
          for (const timer of run.timers) clearTimeout(timer);
          this.running.delete(job.id);
          slot.busy--;
          endRun();
          this.wake();
        });
    });
  }

  private async renew(run: Running): Promise<void> {
    try {
      const job = await this.options.queue.heartbeat(run.job.id, this.options.owner, this.leaseMs);
      if (job.cancelRequested) this.stop(run, 'cancel');
    } catch (error) {
      if (error instanceof JobQueueError && error.code === 'lost-lease') {
        this.options.logger.error({ jobId: run.job.id }, `lost the lease: ${error.message}`);
        run.stopCause = 'lost-lease';
        run.process.kill();
      }
    }
  }

  private onProgress(run: Running, progress: JobProgress): void {
    const now = performance.now();
    if (run.stage?.name !== progress.stage) {
      this.closeStage(run, now);
      run.stage = { name: progress.stage, since: now };
    } else if (now - run.lastWrite < this.progressWriteMs) {
      run.pendingProgress = progress;
      return;
    }
    run.lastWrite = now;
    run.pendingProgress = undefined;
    void this.options.queue.setProgress(run.job.id, this.options.owner, progress).catch(() => {});
  }

  private closeStage(run: Running, now: number): void {
    if (run.stage)
      jobStageSeconds.observe({ kind: run.job.kind, stage: run.stage.name }, (now - run.stage.since) / 1000);
  }

  private stop(run: Running, cause: StopCause): void {
    if (run.stopCause) return;
    run.stopCause = cause;
    run.process.stop(
      cause === 'timeout'
        ? `the job ran past its ${run.job.timeoutSeconds} s limit`
        : cause === 'shutdown'
          ? 'the server is shutting down'
          : 'cancelled',
    );
  }

  private async finish(run: Running, outcome: JobOutcome, log: Logger): Promise<void> {
    const { queue, hooks } = this.options;
    const { job } = run;
    const owner = this.options.owner;
    const now = performance.now();
    this.closeStage(run, now);
    if (run.pendingProgress) await queue.setProgress(job.id, owner, run.pendingProgress).catch(() => {});
    const seconds = (now - run.startedAt) / 1000;
    let label: string;
    let final: Job | undefined;
    if (run.stopCause === 'lost-lease') label = 'lost-lease';
    else if (outcome.type === 'succeeded') {
      try {
        await hooks?.succeeded?.(job, outcome.result);
        final = await queue.succeed(job.id, owner, outcome.result);
        label = 'succeeded';
      } catch (error) {
        const reason = `the job finished but its result could not be recorded: ${(error as Error).message}`;
        await queue.log(job.id, 'error', reason);
        final = await queue.fail(job.id, owner, reason);
        label = 'failed';
      }
    } else if (outcome.type === 'failed' && run.stopCause === undefined) {
      const reason = outcome.failure ? outcome.reason : `internal error: ${outcome.reason}`;
      if (!outcome.failure) log.error({ stack: outcome.stack }, reason);
      await queue.log(job.id, 'error', outcome.stack && !outcome.failure ? outcome.stack : reason);
      final = await queue.fail(job.id, owner, reason);
      label = 'failed';
    } else if (run.stopCause === 'timeout') {
      const reason = `timed out: the job ran past its ${job.timeoutSeconds} s limit`;
      await queue.log(job.id, 'error', reason);
      final = await queue.fail(job.id, owner, reason);
      label = 'timeout';
    } else if (run.stopCause === 'shutdown') {
      await queue.release(job.id, owner, 'the server shut down; the job is queued again and resumes at the next start');
      label = 'released';
    } else {
      await queue.log(job.id, 'info', 'cancelled');
      final = await queue.cancelled(job.id, owner);
      label = 'cancelled';
    }
    jobSeconds.observe({ kind: job.kind, outcome: label }, seconds);
    jobsFinished.inc({ kind: job.kind, outcome: label });
    log.info({ outcome: label, seconds: Math.round(seconds * 10) / 10 }, `job ended: ${label}`);
    if (final && isFinished(final.state) && final.state !== 'succeeded') await hooks?.ended?.(final);
  }

  /** Stops claiming, gives running jobs back to the queue (they resume at the next start) and waits for them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pollTimer);
    this.unsubscribe();
    await this.ticking;
    const runs = [...this.running.values()];
    for (const run of runs) this.stop(run, 'shutdown');
    await Promise.all(runs.map((r) => r.done));
  }
}
