// mediasoup worker processes, one router each. Sessions are placed on the router with the fewest sessions; a worker
// that dies takes its routers and transports with it ('died'), so the pool starts a replacement and tells the
// sessions that were on it ('mediaLost'), which re-create their media on another router (MediaReset to clients).

import type { types } from 'mediasoup';
import * as mediasoup from 'mediasoup';
import { EnhancedEventEmitter } from '../enhanced-events.js';
import { Logger } from '../logger.js';

const logger = new Logger('MediaWorkerPool');
const MAX_RESTART_DELAY_MS = 5000;

/** What every router offers: Opus for speech both ways, VP8 and H.264 Constrained Baseline for the avatar. */
export const ROUTER_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

export interface MediaWorkerPoolOptions {
  workers: number;
  /** Worker log level (default 'warn'). */
  logLevel?: types.WorkerLogLevel;
  /** Delay before restarting a dead worker, doubled while restarts fail (default 100 ms). */
  restartDelayMs?: number;
}

/** A worker and its router; sessions hold one while they live on it. */
export interface MediaSlot {
  readonly index: number;
  worker: types.Worker | undefined;
  router: types.Router | undefined;
  sessions: number;
}

export type MediaWorkerPoolEvents = {
  /** The worker of `slot` died: every transport on it is gone. */
  workerdied: [MediaSlot, Error];
  workerrestarted: [MediaSlot];
};

export class MediaWorkerPool extends EnhancedEventEmitter<MediaWorkerPoolEvents> {
  private readonly slots: MediaSlot[] = [];
  private isClosed = false;
  private restarts = 0;

  static async create(options: MediaWorkerPoolOptions): Promise<MediaWorkerPool> {
    const pool = new MediaWorkerPool(options);
    try {
      await Promise.all(pool.slots.map((slot) => pool.start(slot)));
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  private constructor(private readonly options: MediaWorkerPoolOptions) {
    super();
    for (let index = 0; index < options.workers; index++)
      this.slots.push({ index, worker: undefined, router: undefined, sessions: 0 });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Worker restarts since the pool started. */
  get restartCount(): number {
    return this.restarts;
  }

  /** The router capabilities clients load (the same on every worker). */
  get rtpCapabilities(): types.RtpCapabilities {
    const router = this.slots.find((s) => s.router)?.router;
    if (!router) throw new Error('MediaWorkerPool: no media worker is running');
    return router.rtpCapabilities;
  }

  get workerPids(): number[] {
    return this.slots.flatMap((s) => (s.worker ? [s.worker.pid] : []));
  }

  /** The running slot with the fewest sessions, counted as taken; undefined while every worker restarts. */
  acquire(): MediaSlot | undefined {
    const running = this.slots.filter((s) => s.router && !s.router.closed);
    if (running.length === 0) return undefined;
    const slot = running.reduce((best, s) => (s.sessions < best.sessions ? s : best));
    slot.sessions++;
    return slot;
  }

  release(slot: MediaSlot): void {
    slot.sessions = Math.max(0, slot.sessions - 1);
  }

  /** Waits until some worker runs (after a crash of the only one). */
  async running(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.slots.some((s) => s.router && !s.router.closed)) {
      if (this.isClosed || performance.now() > deadline) throw new Error('no media worker is running');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const slot of this.slots) slot.worker?.close();
  }

  private async start(slot: MediaSlot): Promise<void> {
    const worker = await mediasoup.createWorker({ logLevel: this.options.logLevel ?? 'warn' });
    if (this.isClosed) {
      worker.close();
      return;
    }
    const router = await worker.createRouter({ mediaCodecs: ROUTER_CODECS });
    slot.worker = worker;
    slot.router = router;
    worker.on('died', (error) => this.died(slot, worker, error));
  }

  private died(slot: MediaSlot, worker: types.Worker, error: Error): void {
    if (slot.worker !== worker) return;
    logger.error('mediasoup worker %d died: %s', worker.pid, error.message);
    slot.worker = undefined;
    slot.router = undefined;
    slot.sessions = 0;
    this.safeEmit('workerdied', slot, error);
    void this.restart(slot);
  }

  private async restart(slot: MediaSlot): Promise<void> {
    let delay = this.options.restartDelayMs ?? 100;
    while (!this.isClosed) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.isClosed) return;
      try {
        await this.start(slot);
        this.restarts++;
        this.safeEmit('workerrestarted', slot);
        return;
      } catch (error) {
        delay = Math.min(MAX_RESTART_DELAY_MS, delay * 2);
        logger.error('restarting a mediasoup worker failed (%s); next try in %d ms', (error as Error).message, delay);
      }
    }
  }
}
