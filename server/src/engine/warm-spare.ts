// A started engine worker held in reserve for one device, with the identities in use there already loaded: when a
// worker dies, its sessions move onto the spare (no process to start, no identity to read and upload), and a new
// spare starts behind it. The price is one idle process per device and one more copy of each identity in use.
import { Logger } from '../logger.js';
import type { EngineWorker } from './engine-worker.js';

const logger = new Logger('WarmSpare');
/** After a spare failed to start or died, the next one waits this long, doubled while they keep failing. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/** A spare handed over: its worker, and the identities it holds preloaded (release them once sessions hold them). */
export interface TakenSpare {
  worker: EngineWorker;
  preloaded: string[];
}

export class WarmSpare {
  private worker: EngineWorker | undefined;
  private starting: Promise<void> | undefined;
  /** Identities the spare worker was asked to preload. */
  private preloaded = new Set<string>();
  /** Identities in use on the device: their directory and how many sessions hold each. */
  private readonly inUse = new Map<string, { dir: string; sessions: number }>();
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private closing: Promise<unknown> | undefined;

  constructor(private readonly start: () => Promise<EngineWorker>) {}

  /** The spare worker, when one runs. */
  get current(): EngineWorker | undefined {
    return this.worker;
  }

  /** Resolves once the spare that is starting (if any) runs. */
  async ready(): Promise<void> {
    await this.starting;
  }

  /** Starts a spare unless one runs or starts already; it preloads every identity in use. */
  replenish(): void {
    if (this.isClosed || this.worker || this.starting || this.retryTimer) return;
    this.starting = this.start().then(
      (worker) => {
        this.starting = undefined;
        if (this.isClosed) {
          worker.close();
          this.closing = worker.exited;
          return;
        }
        this.worker = worker;
        this.preloaded = new Set();
        worker.on('died', () => this.spareDied(worker));
        for (const [id, { dir }] of this.inUse) this.preload(worker, id, dir);
      },
      (error: Error) => {
        this.starting = undefined;
        logger.error('a spare engine worker did not start (%s); next try in %d ms', error.message, this.retryMs);
        this.retryLater();
      },
    );
  }

  /**
   * Hands the spare over (waiting for one that is starting), or undefined when there is none. The caller calls
   * replenish() once it is done with the handover, so that a new spare does not compete with it for the CPU.
   */
  async take(): Promise<TakenSpare | undefined> {
    if (!this.worker && this.starting) await this.starting;
    const worker = this.worker;
    if (!worker || worker.closed) return undefined;
    this.worker = undefined;
    this.retryMs = FIRST_RETRY_MS;
    return { worker, preloaded: [...this.preloaded] };
  }

  /** A session opened with this identity on the device. */
  retain(identityId: string, identityDir: string): void {
    const entry = this.inUse.get(identityId);
    if (entry) {
      entry.sessions++;
      return;
    }
    this.inUse.set(identityId, { dir: identityDir, sessions: 1 });
    if (this.worker) this.preload(this.worker, identityId, identityDir);
  }

  /** A session with this identity closed. */
  release(identityId: string): void {
    const entry = this.inUse.get(identityId);
    if (!entry || --entry.sessions > 0) return;
    this.inUse.delete(identityId);
    if (this.worker && this.preloaded.delete(identityId))
      this.worker
        .releaseIdentity(identityId)
        .catch((error: Error) => logger.debug('releaseIdentity: %s', error.message));
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    this.worker?.close();
    this.closing = this.worker?.exited;
    this.worker = undefined;
  }

  /** After close(): resolves when the spare's process (if any) has exited. */
  async exited(): Promise<void> {
    await this.starting;
    await this.closing;
  }

  private preload(worker: EngineWorker, identityId: string, identityDir: string): void {
    this.preloaded.add(identityId);
    worker.preloadIdentity(identityId, identityDir).catch((error: Error) => {
      // Not fatal: a session moved onto this worker loads the identity itself (and fails the same way if it must).
      if (!worker.closed) logger.warn('the spare engine worker could not preload "%s": %s', identityId, error.message);
    });
  }

  private spareDied(worker: EngineWorker): void {
    if (this.worker !== worker) return; // taken already: the pool watches it now
    this.worker = undefined;
    logger.error('the spare engine worker %d died; a new one starts in %d ms', worker.pid, this.retryMs);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.isClosed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.replenish();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(MAX_RETRY_MS, 2 * this.retryMs);
  }
}
