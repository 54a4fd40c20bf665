// The embedded job queue on SQLite (better-sqlite3): each method is one transaction, so a crash at any point leaves
// every job in exactly one state. Progress and log lines are written through too: after a restart the API shows
// how far a job had got.
import { Logger } from '../logger.js';
import type { Db } from '../storage/database.js';
import { newId } from '../storage/ids.js';
import {
  JOB_KINDS,
  type Job,
  type JobKind,
  type JobLogLine,
  type JobProgress,
  type JobSpec,
  type LogLevel,
} from './job.js';
import {
  type ClaimRequest,
  type JobChange,
  type JobFilter,
  type JobQueue,
  JobQueueError,
  type Recovered,
} from './job-queue.js';

const logger = new Logger('SqliteJobQueue');

interface JobRow {
  id: string;
  kind: string;
  state: string;
  priority: number;
  device: string;
  identity_id: string | null;
  params: string;
  attempts: number;
  max_attempts: number;
  timeout_seconds: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  owner: string | null;
  lease_until: number | null;
  assigned_device: string | null;
  cancel_requested: number;
  progress: string | null;
  error: string | null;
  result: string | null;
}

const toJob = (r: JobRow): Job => ({
  id: r.id,
  kind: r.kind as Job['kind'],
  state: r.state as Job['state'],
  priority: r.priority,
  device: r.device as Job['device'],
  identityId: r.identity_id,
  params: JSON.parse(r.params),
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  timeoutSeconds: r.timeout_seconds,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  owner: r.owner,
  leaseUntil: r.lease_until,
  assignedDevice: r.assigned_device,
  cancelRequested: r.cancel_requested === 1,
  progress: r.progress ? JSON.parse(r.progress) : null,
  error: r.error,
  result: r.result ? JSON.parse(r.result) : null,
});

export interface SqliteJobQueueOptions {
  /** Log lines kept per job; older ones are dropped (default 5000). */
  maxLogLines?: number;
  /** Defaults for jobs that do not say. */
  defaultMaxAttempts?: number;
  defaultTimeoutSeconds?: number;
  /** Clock (ms since the epoch); tests move it. */
  now?: () => number;
}

export class SqliteJobQueue implements JobQueue {
  private readonly listeners = new Set<(change: JobChange) => void>();
  private readonly maxLogLines: number;
  private readonly defaults: { maxAttempts: number; timeoutSeconds: number };
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    options: SqliteJobQueueOptions = {},
  ) {
    this.maxLogLines = options.maxLogLines ?? 5000;
    this.defaults = {
      maxAttempts: options.defaultMaxAttempts ?? 3,
      timeoutSeconds: options.defaultTimeoutSeconds ?? 6 * 3600,
    };
    this.now = options.now ?? Date.now;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private row(id: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  private must(id: string): JobRow {
    const row = this.row(id);
    if (!row) throw new JobQueueError('not-found', `no job ${id}`);
    return row;
  }

  private emit(change: JobChange): void {
    // A listener's failure is its own: the transition is committed already and the other listeners still hear it.
    for (const listener of this.listeners)
      try {
        listener(change);
      } catch (error) {
        logger.error('a job-change listener threw: %o', error);
      }
  }

  private changed(id: string): Job {
    const job = toJob(this.must(id));
    this.emit({ type: 'job', job });
    return job;
  }

  /** The running job `id` held by `owner`, or a lost-lease error saying why not. */
  private owned(id: string, owner: string): JobRow {
    const row = this.must(id);
    if (row.state !== 'running' || row.owner !== owner)
      throw new JobQueueError(
        'lost-lease',
        `job ${id} is ${row.state}${row.owner && row.owner !== owner ? `, held by ${row.owner}` : ''}, not running for ${owner}`,
      );
    return row;
  }

  async enqueue(spec: JobSpec): Promise<Job> {
    const id = newId('job');
    const at = this.iso();
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, state, priority, device, identity_id, params, max_attempts, timeout_seconds,
           created_at, updated_at, seq)
         VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs))`,
      )
      .run(
        id,
        spec.kind,
        spec.priority ?? 0,
        spec.device ?? 'auto',
        spec.identityId ?? null,
        JSON.stringify(spec.params),
        spec.maxAttempts ?? this.defaults.maxAttempts,
        spec.timeoutSeconds ?? this.defaults.timeoutSeconds,
        at,
        at,
      );
    return this.changed(id);
  }

  async get(id: string): Promise<Job | undefined> {
    const row = this.row(id);
    return row && toJob(row);
  }

  async list(filter: JobFilter = {}): Promise<Job[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.state) where.push('state = ?') && args.push(filter.state);
    if (filter.kind) where.push('kind = ?') && args.push(filter.kind);
    if (filter.identityId) where.push('identity_id = ?') && args.push(filter.identityId);
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 100) as JobRow[]).map(toJob);
  }

  async claim(request: ClaimRequest): Promise<Job | undefined> {
    if (request.devices.length === 0) return undefined;
    const claimed = this.db.transaction(() => {
      const marks = request.devices.map(() => '?').join(', ');
      const row = this.db
        .prepare(
          `SELECT id FROM jobs WHERE state = 'queued' AND device IN (${marks}) ORDER BY priority DESC, seq LIMIT 1`,
        )
        .get(...request.devices) as { id: string } | undefined;
      if (!row) return undefined;
      const at = this.iso();
      this.db
        .prepare(
          `UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, assigned_device = ?, attempts = attempts + 1,
             started_at = COALESCE(started_at, ?), updated_at = ?, error = NULL WHERE id = ?`,
        )
        .run(request.owner, this.now() + request.leaseMs, request.slot, at, at, row.id);
      return row.id;
    })();
    return claimed === undefined ? undefined : this.changed(claimed);
  }

  async heartbeat(id: string, owner: string, leaseMs: number): Promise<Job> {
    const row = this.db.transaction(() => {
      this.owned(id, owner);
      this.db.prepare('UPDATE jobs SET lease_until = ? WHERE id = ?').run(this.now() + leaseMs, id);
      return this.must(id);
    })();
    return toJob(row);
  }

  async setProgress(id: string, owner: string, progress: JobProgress): Promise<void> {
    this.db.transaction(() => {
      this.owned(id, owner);
      this.db
        .prepare('UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ?')
        .run(JSON.stringify(progress), this.iso(), id);
    })();
    this.changed(id);
  }

  async log(id: string, level: LogLevel, message: string): Promise<void> {
    const line = this.db.transaction(() => {
      this.must(id);
      const at = this.iso();
      const text = message.length > 4000 ? `${message.slice(0, 4000)}…` : message;
      const { lastInsertRowid } = this.db
        .prepare('INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, ?, ?)')
        .run(id, at, level, text);
      const seq = Number(lastInsertRowid);
      // Keep the newest maxLogLines per job; checked every 100 lines so the common insert stays one statement.
      if (seq % 100 === 0)
        this.db
          .prepare(
            `DELETE FROM job_logs WHERE job_id = ? AND seq <= (
               SELECT seq FROM job_logs WHERE job_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
          )
          .run(id, id, this.maxLogLines);
      return { seq, jobId: id, at, level, message: text };
    })();
    this.emit({ type: 'log', line });
  }

  async logs(id: string, afterSeq = 0, limit = 1000): Promise<JobLogLine[]> {
    this.must(id);
    const rows = this.db
      .prepare('SELECT * FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(id, afterSeq, limit) as { seq: number; job_id: string; at: string; level: LogLevel; message: string }[];
    return rows.map((r) => ({ seq: r.seq, jobId: r.job_id, at: r.at, level: r.level, message: r.message }));
  }

  private finish(id: string, owner: string | null, set: string, ...args: unknown[]): Job {
    this.db.transaction(() => {
      if (owner !== null) this.owned(id, owner);
      const at = this.iso();
      this.db
        .prepare(
          `UPDATE jobs SET ${set}, owner = NULL, lease_until = NULL, finished_at = ?, updated_at = ? WHERE id = ?`,
        )
        .run(...args, at, at, id);
    })();
    return this.changed(id);
  }

  async succeed(id: string, owner: string, result: Record<string, unknown>): Promise<Job> {
    return this.finish(id, owner, `state = 'succeeded', result = ?`, JSON.stringify(result));
  }

  async fail(id: string, owner: string, reason: string): Promise<Job> {
    return this.finish(id, owner, `state = 'failed', error = ?`, reason);
  }

  async cancel(id: string, reason: string): Promise<Job> {
    const row = this.must(id);
    if (row.state === 'queued') return this.finish(id, null, `state = 'cancelled', error = ?`, reason);
    if (row.state !== 'running')
      throw new JobQueueError('conflict', `job ${id} is ${row.state}: only a queued or running job can be cancelled`);
    this.db
      .prepare('UPDATE jobs SET cancel_requested = 1, error = ?, updated_at = ? WHERE id = ?')
      .run(reason, this.iso(), id);
    return this.changed(id);
  }

  async release(id: string, owner: string, reason: string): Promise<Job> {
    this.db.transaction(() => {
      this.owned(id, owner);
      this.db
        .prepare(
          `UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), owner = NULL, lease_until = NULL,
             assigned_device = NULL, updated_at = ? WHERE id = ?`,
        )
        .run(this.iso(), id);
    })();
    await this.log(id, 'info', reason);
    return this.changed(id);
  }

  async cancelled(id: string, owner: string): Promise<Job> {
    return this.finish(id, owner, `state = 'cancelled'`);
  }

  async retry(id: string): Promise<Job> {
    const row = this.must(id);
    if (row.state !== 'failed' && row.state !== 'cancelled')
      throw new JobQueueError('conflict', `job ${id} is ${row.state}: only a failed or cancelled job can be retried`);
    this.db
      .prepare(
        `UPDATE jobs SET state = 'queued', attempts = 0, cancel_requested = 0, error = NULL, result = NULL,
           finished_at = NULL, assigned_device = NULL, updated_at = ?, seq = (SELECT MAX(seq) + 1 FROM jobs)
         WHERE id = ?`,
      )
      .run(this.iso(), id);
    return this.changed(id);
  }

  async recover(owner: string): Promise<Recovered[]> {
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE state = 'running' AND (owner = ? OR lease_until < ?)`)
      .all(owner, this.now()) as JobRow[];
    const out: Recovered[] = [];
    for (const row of rows) {
      const where = row.progress ? ` during ${(JSON.parse(row.progress) as JobProgress).stage}` : '';
      const who = row.owner === owner ? 'the server restarted' : `its runner ${row.owner} stopped renewing its lease`;
      let job: Job;
      let outcome: Recovered['outcome'];
      if (row.cancel_requested) {
        job = this.finish(row.id, null, `state = 'cancelled'`);
        outcome = 'cancelled';
      } else if (row.attempts < row.max_attempts) {
        this.db
          .prepare(
            `UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL, assigned_device = NULL, updated_at = ?
             WHERE id = ?`,
          )
          .run(this.iso(), row.id);
        await this.log(row.id, 'warn', `interrupted${where}: ${who}; queued again to resume from its last checkpoint`);
        job = this.changed(row.id);
        outcome = 'requeued';
      } else {
        const reason =
          `interrupted${where}: ${who}, and it has used all ${row.max_attempts} attempts; ` +
          'retry it once the cause is fixed';
        await this.log(row.id, 'error', reason);
        job = this.finish(row.id, null, `state = 'failed', error = ?`, reason);
        outcome = 'failed';
      }
      out.push({ job, outcome });
    }
    return out;
  }

  async depth(): Promise<Record<JobKind, { queued: number; running: number }>> {
    const rows = this.db
      .prepare(`SELECT kind, state, COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running') GROUP BY kind, state`)
      .all() as { kind: JobKind; state: 'queued' | 'running'; n: number }[];
    const out = Object.fromEntries(JOB_KINDS.map((k) => [k, { queued: 0, running: 0 }])) as Record<
      JobKind,
      { queued: number; running: number }
    >;
    for (const r of rows) if (out[r.kind]) out[r.kind][r.state] = r.n;
    return out;
  }

  subscribe(listener: (change: JobChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
  }
}
