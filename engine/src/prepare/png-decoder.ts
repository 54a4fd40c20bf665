// Decodes PNG files on worker threads. pngjs decodes synchronously in JavaScript (10-20 ms for a 512² image), and a
// training frame is four images, so loading the nine videos a motion prior learns from (about 1,900 frames) on the
// main thread took minutes; a pool of decoders, one per core, takes seconds. Idle workers do not keep the process
// alive, so a shared pool needs no closing.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest } from './png-decode-worker.js';

export interface DecodedImage {
  width: number;
  height: number;
  /** `channels` bytes per pixel, row-major (grey: one byte; RGB: three). */
  data: Uint8Array;
}

/** Why a file could not be decoded: it is unreadable, or it is not a valid PNG. */
export class PngDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly reason: 'unreadable' | 'invalid',
    detail: string,
  ) {
    super(reason === 'unreadable' ? `${file} is missing or unreadable` : `${file} is not a valid PNG: ${detail}`);
  }
}

interface Job {
  request: DecodeRequest;
  resolve: (image: DecodedImage) => void;
  reject: (error: Error) => void;
}

export class PngDecoderPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(readonly workers = Math.max(1, Math.min(16, availableParallelism()))) {
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`workers must be a positive integer, got ${workers}`);
  }

  /** Reads and decodes `file`; a grey PNG read as RGB repeats its value, an RGB one read as grey keeps red. */
  decode(file: string, channels: 1 | 3): Promise<DecodedImage> {
    if (this.closed) return Promise.reject(new Error('the PNG decoder pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { file, channels }, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; queued decodes fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the PNG decoder pool is closed'));
    const all = [...this.idle.splice(0), ...this.busy.keys()];
    await Promise.all(all.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.busy.size < this.workers ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift() as Job;
      this.busy.set(worker, job);
      worker.ref();
      worker.postMessage(job.request);
    }
  }

  private spawn(): Worker {
    const here = fileURLToPath(import.meta.url);
    const worker = new Worker(path.join(path.dirname(here), `png-decode-worker${path.extname(here)}`));
    worker.on('message', (reply: DecodeReply) => {
      const job = this.busy.get(worker);
      if (!job) return;
      this.busy.delete(worker);
      if ('error' in reply) job.reject(new PngDecodeError(job.request.file, reply.reason, reply.error));
      else job.resolve({ width: reply.width, height: reply.height, data: new Uint8Array(reply.data) });
      worker.unref();
      this.idle.push(worker);
      this.dispatch();
    });
    // A worker that dies fails only its own decode; the next decode starts a fresh one.
    const lost = (error: Error) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      job?.reject(new Error(`the PNG decoder decoding ${job.request.file} stopped: ${error.message}`));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exit code ${code}`)));
    return worker;
  }
}

let shared: PngDecoderPool | undefined;

/** The process's pool (one worker per core, at most 16). */
export function pngDecoders(): PngDecoderPool {
  shared ??= new PngDecoderPool();
  return shared;
}
