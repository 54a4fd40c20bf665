// The engine's training entry points, looked up at run time. Training (`trainIdentity`, `pretrainMotionPrior`) is
// being added to @splatcast/engine; until a build exports them, a job that needs one fails with that reason instead
// of pretending. The shapes below are the agreed library calls.

import { JobFailure } from './executor.js';
import type { JobProgress } from './job.js';

/** What trainIdentity reports (engine/src/train/trainer.ts). */
export interface TrainProgress {
  stage: string;
  /** Iterations done in all stages, of total. */
  done: number;
  total: number;
  loss?: number;
  psnr?: number;
  etaSeconds?: number;
}

export interface TrainSchedule {
  faceIterations: number;
  staticIterations: number;
  mouthIterations: number;
  fuseIterations: number;
}

export interface TrainIdentityOptions {
  dataset: string;
  out: string;
  device: 'cpu' | 'cuda';
  size?: number;
  schedule?: Partial<TrainSchedule>;
  checkpointDir: string;
  checkpointEvery?: number;
  identity?: { name: string; consent: { subjectConsent: boolean; statement: string; recordedAt: string | null } };
  signal: AbortSignal;
  onProgress: (progress: TrainProgress) => void;
  onLog?: (line: string) => void;
}

/**
 * A schedule of about `iterations` in all, split as the default one is (face 10,000 of which 1,000 static, mouth
 * 4,000, fuse 1,000): small settings for CI, the default when absent.
 */
export function scheduleFor(iterations: number | undefined): Partial<TrainSchedule> | undefined {
  if (iterations === undefined) return undefined;
  const part = (share: number) => Math.max(1, Math.round((iterations * share) / 15000));
  return {
    faceIterations: part(10000),
    staticIterations: part(1000),
    mouthIterations: part(4000),
    fuseIterations: part(1000),
  };
}

export interface PretrainOptions {
  datasets: string[];
  out: string;
  device: 'cpu' | 'cuda';
  iterations?: number;
  checkpointEvery?: number;
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
  stage: `training: ${p.stage}`,
  iteration: p.done,
  total: p.total,
  ...(p.loss !== undefined && { loss: p.loss }),
  ...(p.psnr !== undefined && { psnr: p.psnr }),
  ...(p.etaSeconds !== undefined && { etaSeconds: p.etaSeconds }),
});
