// Worker-thread entry for dataset-masks.ts: runs one MaskJob (given as workerData) and posts a message per frame,
// then the background samples (their buffers transferred, not copied), or the error.
import { parentPort, workerData } from 'node:worker_threads';
import { type MaskJob, maskRange } from './dataset-masks.js';
import { PrepareError } from './errors.js';

const port = parentPort;
if (!port) throw new Error('mask-worker.ts runs as a worker thread of dataset-masks.ts');
try {
  const samples = await maskRange(workerData as MaskJob, () => port.postMessage({ frame: true }));
  port.postMessage(
    { samples },
    samples.flatMap((s) => [s.rgb.buffer as ArrayBuffer, s.sure.buffer as ArrayBuffer]),
  );
} catch (error) {
  port.postMessage({ error: (error as Error).message, prepare: error instanceof PrepareError });
}
