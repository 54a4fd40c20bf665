// Engine workers supervised: N processes per GPU (or on the CPU when there is none), sessions placed on the
// least-loaded one, a worker that dies restarted (with backoff while it keeps failing) and its sessions opened
// there again: identity reloaded, audio state reset, the same EngineSession objects resuming.
import { EnhancedEventEmitter } from '../enhanced-events.js';
import { EngineError } from '../errors.js';
import { Logger } from '../logger.js';
import type { EngineSession } from './engine-session.js';
import { EngineWorker, type EngineWorkerOptions, type OpenSessionOptions, type WorkerExit } from './engine-worker.js';
import { DEFAULT_WORKER_CONFIG } from './protocol.js';

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
  /** Delay before restarting a worker that died, doubled while restarts keep failing, up to 5 s (default 0). */
  restartDelayMs?: number;
}

export type EnginePoolEvents = {
  workerdied: [EngineWorker, WorkerExit];
  /** A replacement worker runs and the dead one's sessions were opened on it. */
  workerrestarted: [EngineWorker];
};

export type EnginePoolObserverEvents = { close: [] };

/** One worker position: its current process and the sessions placed on it (kept across restarts). */
interface Slot {
  readonly env: NodeJS.ProcessEnv;
  worker: EngineWorker | undefined;
  ready: Promise<EngineWorker>;
  readonly sessions: Set<EngineSession>;
  /** openSession calls in flight, counted so that concurrent opens spread out. */
  opening: number;
}

const load = (slot: Slot) => slot.sessions.size + slot.opening;

export class EnginePool extends EnhancedEventEmitter<EnginePoolEvents> {
  readonly observer = new EnhancedEventEmitter<EnginePoolObserverEvents>();
  private readonly slots: Slot[] = [];
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
    for (const gpu of devices)
      for (let i = 0; i < perDevice; i++) {
        const env = gpu === undefined ? process.env : { ...process.env, CUDA_VISIBLE_DEVICES: String(gpu) };
        const slot = { env, worker: undefined, sessions: new Set(), opening: 0 } as Omit<Slot, 'ready'> as Slot;
        slot.ready = this.startWorker(slot, false);
        this.slots.push(slot);
      }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The running workers (a restarting slot has none). */
  get workers(): EngineWorker[] {
    return this.slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
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
      session.on('@close', () => slot.sessions.delete(session));
      return session;
    } finally {
      slot.opening--;
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const slot of this.slots) {
      slot.worker?.close();
      // Sessions of a restarting slot have no worker to cascade from.
      for (const session of [...slot.sessions]) session.workerClosed();
      slot.sessions.clear();
    }
    this.observer.safeEmit('close');
  }

  /** Starts the slot's worker, retrying with backoff while the pool is open; re-opens the slot's sessions. */
  private async startWorker(slot: Slot, restart: boolean): Promise<EngineWorker> {
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
        slot.worker = worker;
        worker.on('died', (exit) => this.workerDied(slot, worker, exit));
        if (restart) await this.resumeSessions(slot, worker);
        return worker;
      } catch (error) {
        if (!restart || this.isClosed) throw error;
        delay = Math.min(MAX_RESTART_DELAY_MS, Math.max(2 * delay, 100));
        logger.error('restarting an engine worker failed (%s); next try in %d ms', (error as Error).message, delay);
      }
    }
  }

  private async resumeSessions(slot: Slot, worker: EngineWorker): Promise<void> {
    await Promise.all(
      [...slot.sessions].map((session) =>
        session.state === 'resuming'
          ? worker.adopt(session).catch((error: Error) => {
              // A worker that died meanwhile is restarted again and the session waits for that one.
              if (worker.died) return;
              logger.error('session %s could not resume: %s', session.id, error.message);
              session.workerClosed();
            })
          : undefined,
      ),
    );
    this.safeEmit('workerrestarted', worker);
  }

  private workerDied(slot: Slot, worker: EngineWorker, exit: WorkerExit): void {
    if (slot.worker === worker) slot.worker = undefined;
    this.safeEmit('workerdied', worker, exit);
    if (this.isClosed) return;
    slot.ready = this.startWorker(slot, true);
    slot.ready.catch(() => {});
  }
}
