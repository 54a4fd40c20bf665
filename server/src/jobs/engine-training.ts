// The engine's training entry points, looked up at run time. Training (`trainIdentity`, `pretrainMotionPrior`) is
// being added to @splatcast/engine; until a build exports them, a job that needs one fails with that reason instead
// of pretending. The shapes below are the agreed library calls.

import { JobFailure } from './executor.js';
import type { JobProgress } from './job.js';

export interface TrainProgress {
  stage: string;
  iteration: number;
  total: number;
  loss?: number;
  psnr?: number;
  etaSeconds?: number;
}

export interface TrainIdentityOptions {
  dataset: string;
  out: string;
  device: 'cpu' | 'cuda';
  iterations?: number;
  checkpointDir: string;
  /** The motion prior package to start from (the default when absent). */
  prior?: string;
  signal: AbortSignal;
  onProgress: (progress: TrainProgress) => void;
}

export interface PretrainOptions {
  datasets: string[];
  out: string;
  device: 'cpu' | 'cuda';
  iterations?: number;
  checkpointDir: string;
  signal: AbortSignal;
  onProgress: (progress: TrainProgress) => void;
}

type Engine = Record<string, unknown>;

async function entry<T>(names: string[], what: string): Promise<T> {
  const engine = (await import('@splatcast/engine')) as Engine;
  const found = names.map((n) => engine[n]).find((f) => typeof f === 'function');
  if (!found)
    throw new JobFailure(`${what} is not available: this build of @splatcast/engine exports no ${names.join(' or ')}`);
  return found as T;
}

export const trainIdentity = (options: TrainIdentityOptions) =>
  entry<(o: TrainIdentityOptions) => Promise<unknown>>(['trainIdentity', 'adaptIdentity'], 'identity training').then(
    (train) => train(options),
  );

export const pretrainMotionPrior = (options: PretrainOptions) =>
  entry<(o: PretrainOptions) => Promise<unknown>>(
    ['pretrainMotionPrior', 'pretrain'],
    'motion-prior pre-training',
  ).then((train) => train(options));

export const toJobProgress = (p: TrainProgress): JobProgress => ({
  stage: p.stage,
  iteration: p.iteration,
  total: p.total,
  ...(p.loss !== undefined && { loss: p.loss }),
  ...(p.psnr !== undefined && { psnr: p.psnr }),
  ...(p.etaSeconds !== undefined && { etaSeconds: p.etaSeconds }),
});
