// The engine's training calls as the job executors use them: iteration budgets split like the engine's schedules,
// and the engine's progress as job progress.
import {
  ADAPT_SCHEDULE,
  DEFAULT_PRETRAIN_SCHEDULE,
  DEFAULT_SCHEDULE,
  type PretrainProgress,
  type PretrainSchedule,
  type ScheduleOptions,
  type TrainProgress,
} from '@splatcast/engine';
import type { JobProgress } from './job.js';

/** A motion prior's folder holds this file (engine/src/train/motion-prior.ts). */
export const PRIOR_FILE = 'prior.safetensors';

const faceTotal = (s: ScheduleOptions) => s.faceIterations + s.mouthIterations + s.fuseIterations;

/**
 * A schedule of about `iterations` in all, split as the engine's default one is (from scratch, or adapting from a
 * prior): small settings for CI, the engine's default when absent.
 */
export function scheduleFor(iterations: number | undefined, withPrior: boolean): Partial<ScheduleOptions> | undefined {
  if (iterations === undefined) return undefined;
  const base = withPrior ? ADAPT_SCHEDULE : DEFAULT_SCHEDULE;
  const part = (n: number, min: number) => Math.max(min, Math.round((iterations * n) / faceTotal(base)));
  const staticIterations = part(base.staticIterations, 1);
  const warmupIterations = base.warmupIterations > 0 ? part(base.warmupIterations, 1) : 0;
  return {
    staticIterations,
    warmupIterations,
    faceIterations: Math.max(staticIterations + warmupIterations + 1, part(base.faceIterations, 2)),
    mouthIterations: part(base.mouthIterations, 1),
    fuseIterations: part(base.fuseIterations, 1),
  };
}

/** Per-video pre-training iterations of about `iterations` in all over `videos`, split as the default. */
export function pretrainScheduleFor(iterations: number | undefined, videos: number): PretrainSchedule | undefined {
  if (iterations === undefined) return undefined;
  const d = DEFAULT_PRETRAIN_SCHEDULE;
  const total = d.staticIterations + d.faceIterations + d.mouthIterations;
  const part = (n: number) => Math.max(1, Math.round((iterations * n) / total / Math.max(1, videos)));
  return {
    staticIterations: part(d.staticIterations),
    faceIterations: part(d.faceIterations),
    mouthIterations: part(d.mouthIterations),
  };
}

export const toJobProgress = (p: TrainProgress | PretrainProgress): JobProgress => ({
  stage: `training: ${p.stage}`,
  iteration: p.done,
  total: p.total,
  ...(Number.isFinite(p.loss) && { loss: p.loss }),
  ...(Number.isFinite(p.psnr) && { psnr: p.psnr }),
  ...(Number.isFinite(p.etaSeconds) && { etaSeconds: p.etaSeconds }),
});
