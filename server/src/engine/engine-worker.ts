// An engine worker process as the parent sees it. The renderer runs in a child process (a GPU fault or a crash
// there costs the parent a 'died' event, never its own life); requests cross the IPC channel with deadlines, and
// frames come back with their audio as typed arrays (advanced serialization, no JSON).
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnhancedEventEmitter } from '../enhanced-events.js';
import { EngineError } from '../errors.js';
import { Logger } from '../logger.js';
import { WorkerChannel } from './channel.js';
import { EngineSession } from './engine-session.js';
import { PARENT_PID_ENV } from './parent-watch.js';
import {
  type ChildMessage,
  DEFAULT_WORKER_CONFIG,
  describeIssues,
  type EngineFrame,
  type Method,
  type RequestData,
  type Results,
  type SessionEvent,
  type WorkerConfig,
  type WorkerStats,
  workerConfigSchema,
} from './protocol.js';

const logger = new Logger('EngineWorker');
const here = fileURLToPath(import.meta.url);
/**
 * The child's entry sits next to this module: worker-main.js once built, worker-main.ts when the tests run the
 * sources (fork passes this process's loader flags on to the child).
 */
const WORKER_ENTRY = path.join(path.dirname(here), `worker-main${path.extname(here)}`);

export interface EngineWorkerOptions extends Partial<WorkerConfig> {
  /** Deadline of ordinary requests (default 5 s). */
  requestTimeoutMs?: number;
  /** Deadline of openSession, which loads and uploads the identity (default 60 s). */
  openTimeoutMs?: number;
  /** Deadline for the process to start and choose its device (default 60 s). */
  startTimeoutMs?: number;
  /** After close(), how long the process may take to exit before it is killed (default 3 s). */
  closeTimeoutMs?: number;
  /** Environment of the process (default: this one's), e.g. CUDA_VISIBLE_DEVICES. */
  env?: NodeJS.ProcessEnv;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface OpenSessionOptions {
  identityId: string;
  identityDir: string;
  /** Default: a random UUID. */
  sessionId?: string;
}

export type EngineWorkerEvents = {
  /** The process exited without close() (crash, kill, device fault); its sessions were closed or await a pool. */
  died: [WorkerExit];
  frame: [EngineFrame];
  sessionEvent: [SessionEvent];
};

export type EngineWorkerObserverEvents = { close: []; newsession: [EngineSession] };

export class EngineWorker extends EnhancedEventEmitter<EngineWorkerEvents> {
  readonly observer = new EnhancedEventEmitter<EngineWorkerObserverEvents>();
  /** Resolves when the process has exited (however it ended). */
  readonly exited: Promise<WorkerExit>;
  readonly config: WorkerConfig;
  private readonly channel: WorkerChannel;
  private readonly sessions = new Map<string, EngineSession>();
  private readonly timeouts: { request: number; open: number; close: number };
  private deviceChoice: { device: 'cpu' | 'cuda'; reason: string } | undefined;
  private isClosed = false;
  private hasDied = false;
  private killTimer: NodeJS.Timeout | undefined;
  private onExited!: (exit: WorkerExit) => void;
  private onStarted: ((error?: Error) => void) | undefined;

  /** Starts a worker process and waits until it has chosen its device and runs its clock. */
  static async create(options: EngineWorkerOptions = {}): Promise<EngineWorker> {
    const { requestTimeoutMs, openTimeoutMs, startTimeoutMs, closeTimeoutMs, env, ...overrides } = options;
    const parsed = workerConfigSchema.safeParse({ ...DEFAULT_WORKER_CONFIG, ...overrides });
    if (!parsed.success)
      throw new EngineError('invalid-request', `EngineWorker options: ${describeIssues(parsed.error)}`);
    const child = fork(WORKER_ENTRY, [JSON.stringify(parsed.data)], {
      serialization: 'advanced',
      env: { ...(env ?? process.env), [PARENT_PID_ENV]: String(process.pid) },
    });
    const worker = new EngineWorker(child, parsed.data, {
      request: requestTimeoutMs ?? 5000,
      open: openTimeoutMs ?? 60000,
      close: closeTimeoutMs ?? 3000,
    });
    await worker.started(startTimeoutMs ?? 60000);
    return worker;
  }

  private constructor(
    private readonly child: ChildProcess,
    config: WorkerConfig,
    timeouts: { request: number; open: number; close: number },
  ) {
    super();
    this.config = config;
    this.timeouts = timeouts;
    this.channel = new WorkerChannel(child, timeouts.request);
    this.exited = new Promise((resolve) => {
      this.onExited = resolve;
    });
    child.on('message', (message) => this.received(message as ChildMessage));
    child.on('exit', (code, signal) => this.processExited({ code, signal }));
    child.on('error', (error) => logger.error('worker %d: %s', child.pid, error.message));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The device the worker renders on, and why. */
  get device(): { device: 'cpu' | 'cuda'; reason: string } {
    return this.deviceChoice ?? { device: 'cpu', reason: 'not started' };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get died(): boolean {
    return this.hasDied;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async openSession({ identityId, identityDir, sessionId = randomUUID() }: OpenSessionOptions): Promise<EngineSession> {
    const info = await this.request('openSession', { sessionId, identityId, identityDir }, this.timeouts.open);
    const session = new EngineSession(sessionId, identityId, identityDir, this, info);
    this.track(session);
    this.observer.safeEmit('newsession', session);
    return session;
  }

  /** Loads an identity onto the device before any session needs it (what a warm spare does). */
  async preloadIdentity(identityId: string, identityDir: string): Promise<void> {
    await this.request('preloadIdentity', { identityId, identityDir }, this.timeouts.open);
  }

  /** Drops what preloadIdentity holds (sessions using the identity keep it loaded). */
  async releaseIdentity(identityId: string): Promise<void> {
    await this.request('releaseIdentity', { identityId });
  }

  stats(): Promise<WorkerStats> {
    return this.request('stats', {});
  }

  /** Stops the process (it frees its device memory and exits; killed if it takes longer than closeTimeoutMs). */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.channel.close(new EngineError('invalid-state', `engine worker ${this.pid} was closed`));
    for (const session of [...this.sessions.values()]) session.workerClosed();
    this.sessions.clear();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.channel.notify({ kind: 'close' });
      this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), this.timeouts.close);
    }
    this.observer.safeEmit('close');
  }

  /** @internal used by sessions */
  request<M extends Method>(method: M, data: RequestData<M>, timeoutMs?: number): Promise<Results[M]> {
    if (this.isClosed) return Promise.reject(new EngineError('invalid-state', `${method}: engine worker is closed`));
    return this.channel.request(method, data, timeoutMs);
  }

  /** @internal re-opens a pool's session whose worker died on this one */
  async adopt(session: EngineSession): Promise<void> {
    const info = await this.request(
      'openSession',
      { sessionId: session.id, identityId: session.identityId, identityDir: session.identityDir },
      this.timeouts.open,
    );
    const video = session.videoConfig;
    if (video && !session.closed) await this.request('configureVideo', { sessionId: session.id, ...video });
    if (session.closed) {
      this.request('closeSession', { sessionId: session.id }).catch(() => {});
      return;
    }
    this.track(session);
    session.resumedOn(this, info);
  }

  private track(session: EngineSession): void {
    this.sessions.set(session.id, session);
    const forget = () => {
      if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
      session.off('@close', forget);
      session.off('workerdied', forget);
    };
    session.on('@close', forget);
    session.on('workerdied', forget);
  }

  private started(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onStarted = undefined;
        this.close();
        reject(new EngineError('timeout', `engine worker ${this.pid} did not start in ${timeoutMs} ms`));
      }, timeoutMs);
      this.onStarted = (error) => {
        clearTimeout(timer);
        this.onStarted = undefined;
        if (error) reject(error);
        else resolve();
      };
    });
  }

  private received(message: ChildMessage): void {
    switch (message.kind) {
      case 'response':
        if (message.ok) this.channel.settle(message.id, message.data);
        else this.channel.settle(message.id, undefined, message.error);
        return;
      case 'frame':
        this.sessions.get(message.frame.sessionId)?.frameReceived(message.frame);
        this.safeEmit('frame', message.frame);
        return;
      case 'encodedFrame':
        this.sessions.get(message.frame.sessionId)?.frameReceived(message.frame);
        return;
      case 'sessionEvent':
        this.sessions.get(message.event.sessionId)?.eventReceived(message.event);
        this.safeEmit('sessionEvent', message.event);
        return;
      case 'ready':
        this.deviceChoice = { device: message.device, reason: message.reason };
        logger.debug('worker %d ready on %s (%s)', this.pid, message.device, message.reason);
        this.onStarted?.();
        return;
      case 'protocolError':
        logger.warn('worker %d could not read a message: %s', this.pid, message.message);
        return;
      case 'fatal':
        logger.error('worker %d: fatal: %s', this.pid, message.message);
        this.onStarted?.(new EngineError('internal', `engine worker failed to start: ${message.message}`));
        return;
      default:
        logger.warn('worker %d sent an unknown message: %o', this.pid, message satisfies never);
    }
  }

  private processExited(exit: WorkerExit): void {
    clearTimeout(this.killTimer);
    this.onExited(exit);
    this.onStarted?.(
      new EngineError('worker-died', `engine worker exited while starting (code ${exit.code}, signal ${exit.signal})`),
    );
    if (this.isClosed) return;
    this.isClosed = true;
    this.hasDied = true;
    logger.error('worker %d died (code %s, signal %s)', this.pid, exit.code, exit.signal);
    this.channel.close(new EngineError('worker-died', `engine worker ${this.pid} died`));
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) session.workerDied();
    this.safeEmit('died', exit);
    this.observer.safeEmit('close');
  }
}
