// Engine workers supervised: N processes per GPU (or on the CPU when there is none), sessions placed on the
// least-loaded one, a worker that dies replaced and its sessions opened there again (audio state reset, the same
// EngineSession objects resuming). The replacement is the device's warm spare when it has one (started, identities
// in use preloaded: sessions resume in a few hundred milliseconds instead of a process start and identity load);
// otherwise, and while replacements keep failing, a fresh process with backoff.
import { availableParallelism } from 'node:os';
import { EnhancedEventEmitter } from '../enhanced-events.js';
import { EngineError } from '../errors.js';
import { Logger } from '../logger.js';
import type { EngineSession } from './engine-session.js';
import { EngineWorker, type EngineWorkerOptions, type OpenSessionOptions, type WorkerExit } from './engine-worker.js';
import { DEFAULT_WORKER_CONFIG } from './protocol.js';
import { WarmSpare } from './warm-spare.js';

const logger = new Logger('EnginePool');
const MAX_RESTART_DELAY_MS = 5000;

export interface EnginePoolOptions {
  /** Worker processes per device (default 1). */
  workersPerDevice?: number;
  /**
   * CUDA device ordinals to spread the workers over, each worker seeing one GPU (CUDA_VISIBLE_DEVICES). Absent or
   * empty: one device, chosen by worker.device.
   */
  gpus?: number[];
  worker?: EngineWorkerOptions;
  /**
   * Delay before starting a fresh worker for one that died, doubled while restarts keep failing, up to 5 s
   * (default 0). Taking over a warm spare does not wait.
   */
  restartDelayMs?: number;
  /** Keep a warm spare worker per device to replace a dead one at once (default true). */
  spareWorker?: boolean;
}

export type EnginePoolEvents = {
  workerdied: [EngineWorker, WorkerExit];
  /** A replacement worker runs and the dead one's sessions were opened on it (`fromSpare`: it was the warm spare). */
  workerrestarted: [EngineWorker, { fromSpare: boolean; resumeMs: number }];
};

export type EnginePoolObserverEvents = { close: [] };

/** One worker position: its current process and the sessions placed on it (kept across restarts). */
interface Slot {
  readonly env: NodeJS.ProcessEnv;
  /** The warm spare of the slot's device (shared by its slots), if spares are on. */
  readonly spare: WarmSpare | undefined;
  worker: EngineWorker | undefined;
  ready: Promise<EngineWorker>;
  readonly sessions: Set<EngineSession>;
  /** openSession calls in flight, counted so that concurrent opens spread out. */
  opening: number;
}

const load = (slot: Slot) => slot.sessions.size + slot.opening;

/**
 * libuv threads for each worker: its sessions' video encodes run on the libuv pool, whose default of 4 threads caps
 * a worker at 4 cores of encoding however many the machine has. The machine's cores are shared out between the
 * workers (at least libuv's 4 each); a UV_THREADPOOL_SIZE set by the operator wins.
 */
export function workerThreadPoolSize(cores: number, workers: number, configured?: string): number {
  const own = Number(configured);
  if (configured !== undefined && Number.isInteger(own) && own >= 1) return Math.min(own, 1024);
  return Math.min(1024, Math.max(4, Math.ceil(cores / workers)));
}

export class EnginePool extends EnhancedEventEmitter<EnginePoolEvents> {
  readonly observer = new EnhancedEventEmitter<EnginePoolObserverEvents>();
  private readonly slots: Slot[] = [];
  private readonly spares: WarmSpare[] = [];
  private readonly maxSessions: number;
  private readonly restartDelayMs: number;
  private isClosed = false;

  static async create(options: EnginePoolOptions = {}): Promise<EnginePool> {
    const pool = new EnginePool(options);
    try {
      await Promise.all(pool.slots.map((slot) => slot.ready));
    } catch (error) {
      pool.close();
      throw error;
    }
    // Spares start once the workers run, so that they do not slow the server's start.
    for (const spare of pool.spares) spare.replenish();
    return pool;
  }

  private constructor(private readonly options: EnginePoolOptions) {
    super();
    const perDevice = options.workersPerDevice ?? 1;
    if (!Number.isInteger(perDevice) || perDevice < 1)
      throw new EngineError('invalid-request', `workersPerDevice must be a positive integer, got ${perDevice}`);
    this.maxSessions = options.worker?.maxSessions ?? DEFAULT_WORKER_CONFIG.maxSessions;
    this.restartDelayMs = options.restartDelayMs ?? 0;
    const devices: (number | undefined)[] = options.gpus?.length ? options.gpus : [undefined];
    const threads = workerThreadPoolSize(
      availableParallelism(),
      devices.length * perDevice,
      process.env.UV_THREADPOOL_SIZE,
    );
    for (const gpu of devices) {
      const env: NodeJS.ProcessEnv = { ...process.env, UV_THREADPOOL_SIZE: String(threads) };
      if (gpu !== undefined) env.CUDA_VISIBLE_DEVICES = String(gpu);
      const spare =
        (options.spareWorker ?? true)
          ? new WarmSpare(() => EngineWorker.create({ ...options.worker, env }))
          : undefined;
      if (spare) this.spares.push(spare);
      for (let i = 0; i < perDevice; i++) {
        const slot = { env, spare, worker: undefined, sessions: new Set(), opening: 0 } as Omit<Slot, 'ready'> as Slot;
        slot.ready = this.startWorker(slot, false);
        this.slots.push(slot);
      }
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The running workers (a restarting slot has none; spares are not counted). */
  get workers(): EngineWorker[] {
    return this.slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  }

  /** The warm spares running now (one per device at most). */
  get spareWorkers(): EngineWorker[] {
    return this.spares.flatMap((spare) => (spare.current ? [spare.current] : []));
  }

  /** Resolves once every spare that is starting runs (tests and benchmarks wait for it). */
  async sparesReady(): Promise<void> {
    await Promise.all(this.spares.map((spare) => spare.ready()));
  }

  /** Opens a session on the worker with the fewest sessions (waiting for it if it is restarting). */
  async openSession(options: OpenSessionOptions): Promise<EngineSession> {
    if (this.isClosed) throw new EngineError('invalid-state', 'openSession: the engine pool is closed');
    const slot = this.slots.reduce((best, s) => (load(s) < load(best) ? s : best));
    if (load(slot) >= this.maxSessions)
      throw new EngineError('session-limit', `every engine worker holds its maximum of ${this.maxSessions} sessions`);
    slot.opening++;
    try {
      const worker = await slot.ready;
      const session = await worker.openSession(options);
      session.enableResume();
      slot.sessions.add(session);
      slot.spare?.retain(options.identityId, options.identityDir);
      session.on('@close', () => {
        slot.sessions.delete(session);
        slot.spare?.release(options.identityId);
      });
      return session;
    } finally {
      slot.opening--;
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const spare of this.spares) spare.close();
    for (const slot of this.slots) {
      slot.worker?.close();
      // Sessions of a restarting slot have no worker to cascade from.
      for (const session of [...slot.sessions]) session.workerClosed();
      slot.sessions.clear();
    }
    this.observer.safeEmit('close');
  }

  /** After close(): resolves once every worker and spare process has exited. */
  async exited(): Promise<void> {
    await Promise.all([
      ...this.slots.map((slot) => slot.worker?.exited),
      ...this.spares.map((spare) => spare.exited()),
    ]);
  }

  /** Starts the slot's worker, retrying with backoff while the pool is open; re-opens the slot's sessions. */
  private async startWorker(slot: Slot, restart: boolean): Promise<EngineWorker> {
    const since = performance.now();
    if (restart) {
      const taken = await slot.spare?.take();
      if (taken && !this.isClosed) {
        this.attach(slot, taken.worker);
        await this.resumeSessions(slot, taken.worker, true, since);
        // The sessions hold their identities now; what only the spare needed is freed.
        for (const id of taken.preloaded)
          taken.worker.releaseIdentity(id).catch((error: Error) => logger.debug('releaseIdentity: %s', error.message));
        slot.spare?.replenish();
        return taken.worker;
      }
      taken?.worker.close();
    }
    let delay = this.restartDelayMs;
    for (;;) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.isClosed) throw new EngineError('invalid-state', 'the engine pool is closed');
      try {
        const worker = await EngineWorker.create({ ...this.options.worker, env: slot.env });
        if (this.isClosed) {
          worker.close();
          throw new EngineError('invalid-state', 'the engine pool is closed');
        }
        this.attach(slot, worker);
        if (restart) {
          await this.resumeSessions(slot, worker, false, since);
          slot.spare?.replenish();
        }
        return worker;
      } catch (error) {
        if (!restart || this.isClosed) throw error;
        delay = Math.min(MAX_RESTART_DELAY_MS, Math.max(2 * delay, 100));
        logger.error('restarting an engine worker failed (%s); next try in %d ms', (error as Error).message, delay);
      }
    }
  }

  private attach(slot: Slot, worker: EngineWorker): void {
    slot.worker = worker;
    worker.on('died', (exit) => this.workerDied(slot, worker, exit));
  }

  private async resumeSessions(slot: Slot, worker: EngineWorker, fromSpare: boolean, since: number): Promise<void> {
    await Promise.all(
      [...slot.sessions].map((session) =>
        session.state === 'resuming'
          ? worker.adopt(session).catch((error: Error) => {
              // A worker that died meanwhile is replaced again and the session waits for that one.
              if (worker.died) return;
              logger.error('session %s could not resume: %s', session.id, error.message);
              session.workerClosed();
            })
          : undefined,
      ),
    );
    const resumeMs = performance.now() - since;
    logger.warn(
      'engine worker %d took over %d session(s) in %d ms (%s)',
      worker.pid,
      slot.sessions.size,
      Math.round(resumeMs),
      fromSpare ? 'warm spare' : 'fresh process',
    );
    this.safeEmit('workerrestarted', worker, { fromSpare, resumeMs });
  }

  private workerDied(slot: Slot, worker: EngineWorker, exit: WorkerExit): void {
    if (slot.worker === worker) slot.worker = undefined;
    this.safeEmit('workerdied', worker, exit);
    if (this.isClosed) return;
    slot.ready = this.startWorker(slot, true);
    slot.ready.catch(() => {});
  }
}
