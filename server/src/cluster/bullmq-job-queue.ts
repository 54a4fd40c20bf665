// The job queue for several nodes (cluster.jobQueue: redis): the JobQueue contract on Redis, with BullMQ doing what
// a queue library is for — ordering by priority then submission, the atomic claim that hands a job to exactly one
// runner, and the lease (BullMQ's job lock, renewed by heartbeat; a finish with a lost lock is refused). The job
// records (state, progress, result, error) live next to it in Redis as JSON, changed by optimistic transactions
// (WATCH/MULTI), so a cancel racing a finish on another node cannot both win. Log lines are a capped list per job;
// changes reach every node's subscribers through Redis pub/sub. Recovery stays ours, not BullMQ's stalled-job
// checker: a job whose runner vanished goes back to the queue only while it has attempts left, as in SQLite.
import { randomUUID } from 'node:crypto';
import { type Job as BullJob, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  JOB_DEVICES,
  JOB_KINDS,
  type Job,
  type JobDevice,
  type JobKind,
  type JobLogLine,
  type JobProgress,
  type JobSpec,
  type LogLevel,
} from '../jobs/job.js';
import {
  type ClaimRequest,
  type JobChange,
  type JobFilter,
  type JobQueue,
  JobQueueError,
  type Recovered,
} from '../jobs/job-queue.js';
import { Logger } from '../logger.js';
import { newId } from '../storage/ids.js';

const logger = new Logger('BullmqJobQueue');

/** What is stored per job: the Job as the API shows it, plus the queue's own bookkeeping. */
interface JobRecord extends Job {
  seq: number;
  /** The BullMQ lock token of the claim (a runner that restarts as the same owner can still give the job back). */
  lockToken: string | null;
}

export interface BullmqJobQueueOptions {
  redisUrl: string;
  /** Key prefix of every key (BullMQ's included); default `splatcast`. */
  prefix?: string;
  maxLogLines?: number;
  defaultMaxAttempts?: number;
  defaultTimeoutSeconds?: number;
  /** Clock of the records' times and leases (ms since the epoch); BullMQ's locks use Redis' own clock. */
  now?: () => number;
}

/** BullMQ runs priority 1 first; ours runs higher numbers first. */
const bullPriority = (priority: number) => Math.min(2_097_151, Math.max(1, 1_000_000 - priority));

const strip = ({ seq: _seq, lockToken: _token, ...job }: JobRecord): Job => job;

export class BullmqJobQueue implements JobQueue {
  private readonly listeners = new Set<(change: JobChange) => void>();
  private readonly queues = new Map<JobDevice, Queue>();
  private readonly workers = new Map<string, Worker>();
  private readonly instance = randomUUID();
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly maxLogLines: number;
  private readonly defaults: { maxAttempts: number; timeoutSeconds: number };

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    o: BullmqJobQueueOptions,
  ) {
    this.prefix = o.prefix ?? 'splatcast';
    this.now = o.now ?? Date.now;
    this.maxLogLines = o.maxLogLines ?? 5000;
    this.defaults = { maxAttempts: o.defaultMaxAttempts ?? 3, timeoutSeconds: o.defaultTimeoutSeconds ?? 6 * 3600 };
    for (const device of JOB_DEVICES)
      this.queues.set(device, new Queue(`jobs-${device}`, { connection: redis, prefix: this.prefix }));
    subscriber.on('message', (_channel: string, text: string) => {
      const { from, change } = JSON.parse(text) as { from: string; change: JobChange };
      if (from !== this.instance) this.deliver(change);
    });
  }

  /** Connects (a clear error when Redis cannot be reached) and subscribes to the other nodes' changes. */
  static async connect(o: BullmqJobQueueOptions): Promise<BullmqJobQueue> {
    // BullMQ needs maxRetriesPerRequest: null on the connections it blocks on.
    const open = async () => {
      const r = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null, connectTimeout: 5000 });
      r.on('error', (error) => logger.debug('redis: %s', error.message));
      try {
        await r.connect();
      } catch (error) {
        r.disconnect();
        throw new Error(`cluster.redisUrl ${o.redisUrl}: cannot connect: ${(error as Error).message}`);
      }
      return r;
    };
    const redis = await open();
    const subscriber = await open().catch((error) => {
      redis.disconnect();
      throw error;
    });
    const queue = new BullmqJobQueue(redis, subscriber, o);
    await subscriber.subscribe(queue.key('changes'));
    return queue;
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  private queue(device: JobDevice): Queue {
    return this.queues.get(device) as Queue;
  }

  /** A BullMQ worker per device queue and lease length, only ever asked for one job (no processor, no timers). */
  private worker(device: JobDevice, leaseMs: number): Worker {
    const name = `${device}:${leaseMs}`;
    let worker = this.workers.get(name);
    if (!worker) {
      worker = new Worker(`jobs-${device}`, null, {
        connection: this.redis,
        prefix: this.prefix,
        lockDuration: leaseMs,
        autorun: false,
      });
      worker.on('error', (error) => logger.warn('worker %s: %s', name, error.message));
      this.workers.set(name, worker);
    }
    return worker;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private async read(id: string): Promise<JobRecord | undefined> {
    const text = await this.redis.get(this.key('job', id));
    return text ? (JSON.parse(text) as JobRecord) : undefined;
  }

  private async must(id: string): Promise<JobRecord> {
    const record = await this.read(id);
    if (!record) throw new JobQueueError('not-found', `no job ${id}`);
    return record;
  }

  /**
   * Changes a record atomically: `change` sees the current record and returns the new one (or throws a
   * JobQueueError); the write only lands if nobody changed the record meanwhile, else it runs again.
   */
  private async update(id: string, change: (r: JobRecord) => JobRecord): Promise<Job> {
    const key = this.key('job', id);
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.redis.watch(key);
      const text = await this.redis.get(key);
      if (!text) {
        await this.redis.unwatch();
        throw new JobQueueError('not-found', `no job ${id}`);
      }
      let next: JobRecord;
      try {
        next = change(JSON.parse(text) as JobRecord);
      } catch (error) {
        await this.redis.unwatch();
        throw error;
      }
      next.updatedAt = this.iso();
      const done = await this.redis.multi().set(key, JSON.stringify(next)).exec();
      if (done) {
        const job = strip(next);
        this.emit({ type: 'job', job });
        return job;
      }
    }
    throw new JobQueueError('conflict', `job ${id} changed too often to update; try again`);
  }

  private owned(r: JobRecord, owner: string): void {
    if (r.state !== 'running' || r.owner !== owner)
      throw new JobQueueError(
        'lost-lease',
        `job ${r.id} is ${r.state}${r.owner && r.owner !== owner ? `, held by ${r.owner}` : ''}, not running for ${owner}`,
      );
  }

  private emit(change: JobChange): void {
    this.deliver(change);
    this.redis
      .publish(this.key('changes'), JSON.stringify({ from: this.instance, change }))
      .catch((error) => logger.warn('publish: %s', (error as Error).message));
  }

  private deliver(change: JobChange): void {
    for (const listener of this.listeners)
      try {
        listener(change);
      } catch (error) {
        logger.error('a job-change listener threw: %o', error);
      }
  }

  private async bullJob(r: JobRecord): Promise<BullJob | undefined> {
    return (await this.queue(r.device).getJob(r.id)) ?? undefined;
  }

  private async addToQueue(r: JobRecord): Promise<void> {
    await this.queue(r.device).add(
      r.kind,
      { id: r.id },
      { jobId: r.id, priority: bullPriority(r.priority), removeOnComplete: true, removeOnFail: true, attempts: 1 },
    );
  }

  async enqueue(spec: JobSpec): Promise<Job> {
    const at = this.iso();
    const record: JobRecord = {
      id: newId('job'),
      kind: spec.kind,
      state: 'queued',
      priority: spec.priority ?? 0,
      device: spec.device ?? 'auto',
      identityId: spec.identityId ?? null,
      params: spec.params,
      attempts: 0,
      maxAttempts: spec.maxAttempts ?? this.defaults.maxAttempts,
      timeoutSeconds: spec.timeoutSeconds ?? this.defaults.timeoutSeconds,
      createdAt: at,
      updatedAt: at,
      startedAt: null,
      finishedAt: null,
      owner: null,
      leaseUntil: null,
      assignedDevice: null,
      cancelRequested: false,
      progress: null,
      error: null,
      result: null,
      seq: await this.redis.incr(this.key('jobseq')),
      lockToken: null,
    };
    await this.redis
      .multi()
      .set(this.key('job', record.id), JSON.stringify(record))
      .zadd(this.key('jobs'), record.seq, record.id)
      .exec();
    await this.addToQueue(record);
    const job = strip(record);
    this.emit({ type: 'job', job });
    return job;
  }

  async get(id: string): Promise<Job | undefined> {
    const r = await this.read(id);
    return r && strip(r);
  }

  private async all(): Promise<JobRecord[]> {
    const ids = await this.redis.zrevrange(this.key('jobs'), 0, -1);
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(ids.map((id) => this.key('job', id)));
    return texts.flatMap((t) => (t ? [JSON.parse(t) as JobRecord] : []));
  }

  async list(filter: JobFilter = {}): Promise<Job[]> {
    return (await this.all())
      .filter(
        (r) =>
          (!filter.state || r.state === filter.state) &&
          (!filter.kind || r.kind === filter.kind) &&
          (!filter.identityId || r.identityId === filter.identityId),
      )
      .slice(0, filter.limit ?? 100)
      .map(strip);
  }

  async claim(request: ClaimRequest): Promise<Job | undefined> {
    const devices = [...new Set(request.devices)];
    for (let attempt = 0; attempt < 10; attempt++) {
      // The best head over the device queues this slot may take: highest priority, then oldest.
      const heads = await Promise.all(
        devices.map(async (device) => {
          const [head] = await this.queue(device).getPrioritized(0, 0);
          const record = head?.id ? await this.read(head.id) : undefined;
          return record && { device, record };
        }),
      );
      const best = heads
        .filter((h) => h !== undefined)
        .sort((a, b) => b.record.priority - a.record.priority || a.record.seq - b.record.seq)[0];
      if (!best) return undefined;
      const token = `${request.owner}:${randomUUID()}`;
      const taken = await this.worker(best.device, request.leaseMs).getNextJob(token, { block: false });
      if (!taken?.id) continue; // another node took the last one first
      try {
        const at = this.iso();
        return await this.update(taken.id, (r) => {
          if (r.state !== 'queued') throw new JobQueueError('conflict', `job ${r.id} is ${r.state}`);
          return {
            ...r,
            state: 'running',
            owner: request.owner,
            leaseUntil: this.now() + request.leaseMs,
            assignedDevice: request.slot,
            attempts: r.attempts + 1,
            startedAt: r.startedAt ?? at,
            error: null,
            lockToken: token,
          };
        });
      } catch (error) {
        // Not claimable after all (cancelled a moment ago): out of BullMQ, then look again.
        await taken.moveToFailed(new Error(String(error)), token, false).catch(() => {});
        if (!(error instanceof JobQueueError)) throw error;
      }
    }
    return undefined;
  }

  async heartbeat(id: string, owner: string, leaseMs: number): Promise<Job> {
    const r = await this.must(id);
    this.owned(r, owner);
    const bull = await this.bullJob(r);
    const extended = bull && r.lockToken ? await bull.extendLock(r.lockToken, leaseMs).catch(() => 0) : 0;
    if (!extended) throw new JobQueueError('lost-lease', `job ${id}: its lease ran out and was not renewed`);
    return this.update(id, (cur) => {
      this.owned(cur, owner);
      return { ...cur, leaseUntil: this.now() + leaseMs };
    });
  }

  async setProgress(id: string, owner: string, progress: JobProgress): Promise<void> {
    await this.update(id, (r) => {
      this.owned(r, owner);
      return { ...r, progress };
    });
  }

  async log(id: string, level: LogLevel, message: string): Promise<void> {
    await this.must(id);
    const text = message.length > 4000 ? `${message.slice(0, 4000)}…` : message;
    const line: JobLogLine = {
      seq: await this.redis.incr(this.key('logseq')),
      jobId: id,
      at: this.iso(),
      level,
      message: text,
    };
    const key = this.key('job', id, 'logs');
    await this.redis.multi().rpush(key, JSON.stringify(line)).ltrim(key, -this.maxLogLines, -1).exec();
    this.emit({ type: 'log', line });
  }

  async logs(id: string, afterSeq = 0, limit = 1000): Promise<JobLogLine[]> {
    await this.must(id);
    const lines = (await this.redis.lrange(this.key('job', id, 'logs'), 0, -1)).map((t) => JSON.parse(t) as JobLogLine);
    return lines.filter((l) => l.seq > afterSeq).slice(0, limit);
  }

  /** Ends a running job held by `owner`: BullMQ first (it refuses a lost lock), then the record. */
  private async finish(id: string, owner: string, outcome: Partial<JobRecord>, bullFailed: boolean): Promise<Job> {
    const r = await this.must(id);
    this.owned(r, owner);
    const bull = await this.bullJob(r);
    try {
      if (!bull || !r.lockToken) throw new Error('not in the queue');
      if (bullFailed) await bull.moveToFailed(new Error(outcome.error ?? 'ended'), r.lockToken, false);
      else await bull.moveToCompleted({}, r.lockToken, false);
    } catch (error) {
      throw new JobQueueError('lost-lease', `job ${id}: ${(error as Error).message}`);
    }
    return this.update(id, (cur) => {
      this.owned(cur, owner);
      return { ...cur, ...outcome, owner: null, leaseUntil: null, lockToken: null, finishedAt: this.iso() };
    });
  }

  async succeed(id: string, owner: string, result: Record<string, unknown>): Promise<Job> {
    return this.finish(id, owner, { state: 'succeeded', result }, false);
  }

  async fail(id: string, owner: string, reason: string): Promise<Job> {
    return this.finish(id, owner, { state: 'failed', error: reason }, true);
  }

  async cancelled(id: string, owner: string): Promise<Job> {
    return this.finish(id, owner, { state: 'cancelled' }, true);
  }

  async cancel(id: string, reason: string): Promise<Job> {
    const r = await this.must(id);
    if (r.state === 'queued') {
      const bull = await this.bullJob(r);
      // A job claimed a moment ago is locked: remove() refuses it, and it is cancelled as a running one below.
      const removed = bull
        ? await bull.remove().then(
            () => true,
            () => false,
          )
        : true;
      if (removed)
        return this.update(id, (cur) => {
          if (cur.state !== 'queued') throw new JobQueueError('conflict', `job ${id} is ${cur.state}`);
          return { ...cur, state: 'cancelled', error: reason, finishedAt: this.iso() };
        });
    }
    return this.update(id, (cur) => {
      if (cur.state !== 'running')
        throw new JobQueueError('conflict', `job ${id} is ${cur.state}: only a queued or running job can be cancelled`);
      return { ...cur, cancelRequested: true, error: reason };
    });
  }

  async release(id: string, owner: string, reason: string): Promise<Job> {
    const r = await this.must(id);
    this.owned(r, owner);
    const bull = await this.bullJob(r);
    try {
      if (!bull || !r.lockToken) throw new Error('not in the queue');
      await bull.moveToWait(r.lockToken);
    } catch (error) {
      throw new JobQueueError('lost-lease', `job ${id}: ${(error as Error).message}`);
    }
    await this.log(id, 'info', reason);
    return this.update(id, (cur) => ({
      ...cur,
      state: 'queued',
      attempts: Math.max(cur.attempts - 1, 0),
      owner: null,
      leaseUntil: null,
      assignedDevice: null,
      lockToken: null,
    }));
  }

  async retry(id: string): Promise<Job> {
    const r = await this.must(id);
    if (r.state !== 'failed' && r.state !== 'cancelled')
      throw new JobQueueError('conflict', `job ${id} is ${r.state}: only a failed or cancelled job can be retried`);
    const seq = await this.redis.incr(this.key('jobseq'));
    const job = await this.update(id, (cur) => {
      if (cur.state !== 'failed' && cur.state !== 'cancelled')
        throw new JobQueueError('conflict', `job ${id} is ${cur.state}`);
      return {
        ...cur,
        state: 'queued',
        attempts: 0,
        cancelRequested: false,
        error: null,
        result: null,
        finishedAt: null,
        assignedDevice: null,
        seq,
      };
    });
    await this.redis.zadd(this.key('jobs'), seq, id);
    await this.addToQueue({ ...r, seq });
    return job;
  }

  async recover(owner: string): Promise<Recovered[]> {
    const stale = (await this.all()).filter(
      (r) => r.state === 'running' && (r.owner === owner || (r.leaseUntil ?? 0) < this.now()),
    );
    const out: Recovered[] = [];
    for (const r of stale) {
      const where = r.progress ? ` during ${r.progress.stage}` : '';
      const who = r.owner === owner ? 'the server restarted' : `its runner ${r.owner} stopped renewing its lease`;
      // Back to BullMQ's wait list first: with our token when it was ours, without once the lock has expired.
      const bull = await this.bullJob(r);
      await bull?.moveToWait(r.owner === owner ? (r.lockToken ?? undefined) : undefined).catch(() => 0);
      const unqueue = () => bull?.remove().catch(() => {});
      const ended = { owner: null, leaseUntil: null, lockToken: null, assignedDevice: null } as const;
      let job: Job;
      let outcome: Recovered['outcome'];
      if (r.cancelRequested) {
        await unqueue();
        job = await this.update(r.id, (cur) => ({ ...cur, ...ended, state: 'cancelled', finishedAt: this.iso() }));
        outcome = 'cancelled';
      } else if (r.attempts < r.maxAttempts) {
        await this.log(r.id, 'warn', `interrupted${where}: ${who}; queued again to resume from its last checkpoint`);
        job = await this.update(r.id, (cur) => ({ ...cur, ...ended, state: 'queued' }));
        outcome = 'requeued';
      } else {
        const reason =
          `interrupted${where}: ${who}, and it has used all ${r.maxAttempts} attempts; ` +
          'retry it once the cause is fixed';
        await unqueue();
        await this.log(r.id, 'error', reason);
        job = await this.update(r.id, (cur) => ({
          ...cur,
          ...ended,
          state: 'failed',
          error: reason,
          finishedAt: this.iso(),
        }));
        outcome = 'failed';
      }
      out.push({ job, outcome });
    }
    return out;
  }

  async depth(): Promise<Record<JobKind, { queued: number; running: number }>> {
    const out = Object.fromEntries(JOB_KINDS.map((k) => [k, { queued: 0, running: 0 }])) as Record<
      JobKind,
      { queued: number; running: number }
    >;
    for (const r of await this.all())
      if ((r.state === 'queued' || r.state === 'running') && out[r.kind]) out[r.kind][r.state]++;
    return out;
  }

  subscribe(listener: (change: JobChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
    void this.shutdown();
  }

  /** close(), awaited: workers and queues closed, connections quit. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.workers.values()].map((w) => w.close(true)));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
