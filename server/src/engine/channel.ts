// Requests from the parent to one worker process and their replies. Every request has a deadline: a worker that
// hangs costs its caller a timeout error, never a promise that stays pending forever.
import type { ChildProcess } from 'node:child_process';
import { EngineError, type ErrorReply } from '../errors.js';
import type { Method, ParentMessage, RequestData, Results } from './protocol.js';

interface Pending {
  resolve(data: unknown): void;
  reject(error: EngineError): void;
  timer: NodeJS.Timeout;
}

export class WorkerChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith: EngineError | undefined;

  constructor(
    private readonly child: ChildProcess,
    private readonly defaultTimeoutMs: number,
  ) {}

  get inFlight(): number {
    return this.pending.size;
  }

  request<M extends Method>(method: M, data: RequestData<M>, timeoutMs = this.defaultTimeoutMs): Promise<Results[M]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<Results[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new EngineError('timeout', `${method}: engine worker ${this.child.pid} did not answer in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (data: unknown) => void, reject, timer });
      this.post({ kind: 'request', id, method, data }, (error) =>
        this.settle(id, undefined, {
          code: 'worker-died',
          message: `${method}: cannot reach engine worker ${this.child.pid} (${error.message})`,
        }),
      );
    });
  }

  /** A message that expects no reply. Send failures are ignored: the process is gone, and 'exit' says so. */
  notify(message: ParentMessage): void {
    this.post(message, () => {});
  }

  /** A reply from the worker. */
  settle(id: number, data: unknown, error?: ErrorReply): void {
    const pending = this.pending.get(id);
    if (!pending) return; // timed out already
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (error) pending.reject(new EngineError(error.code, error.message));
    else pending.resolve(data);
  }

  /** Fails every request in flight, and every later one, with `error`. */
  close(error: EngineError): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }

  private post(message: ParentMessage, onError: (error: Error) => void): void {
    if (!this.child.connected) {
      onError(new Error('IPC channel closed'));
      return;
    }
    this.child.send(message, (error) => {
      if (error) onError(error);
    });
  }
}
