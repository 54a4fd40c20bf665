// Adaptation: the identity's video becomes a streamable identity package. Two stages, each resumable: prepare (the
// dataset is kept once complete) and training (from the last checkpoint in the identity's checkpoints folder). The
// package is published by the engine's atomic save; the runner's hook validates it and marks the identity ready.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadMotionPrior, MotionPriorError, trainIdentity } from '@splatcast/engine';
import { ensureDataset } from './dataset-stage.js';
import { PRIOR_FILE, scheduleFor, toJobProgress } from './engine-training.js';
import { type JobExecutor, JobFailure } from './executor.js';

export interface AdaptationParams {
  /** Training iterations in all (default: the engine's full schedule). */
  iterations?: number;
  size?: number;
  maxSeconds?: number;
  /** Written into the package's manifest. */
  name?: string;
  consent?: { statement: string; recordedAt: string };
  /** The motion prior's folder: the identity adapts from it (motion-aligned adaptation); none: from scratch. */
  priorDir?: string;
}

export default function adaptationExecutor(): JobExecutor {
  return {
    kind: 'adaptation',
    async run(context) {
      const { job, dataDir } = context;
      if (!job.identityId) throw new JobFailure('an adaptation job needs an identity');
      const params = job.params as unknown as AdaptationParams;
      const paths = dataDir.identity(job.identityId);
      const dataset = await ensureDataset(paths, params, context);
      context.signal.throwIfAborted();
      await mkdir(paths.checkpoints, { recursive: true });
      const prior = params.priorDir ? await loadPrior(params.priorDir) : undefined;
      const schedule = scheduleFor(params.iterations, prior !== undefined);
      const result = await trainIdentity({
        dataset: paths.dataset,
        out: paths.package,
        device: context.device,
        ...(prior && { prior }),
        ...(schedule && { schedule }),
        checkpointDir: paths.checkpoints,
        // Often enough that a restart loses little: every 5 % of the run, at most every 500 iterations.
        checkpointEvery: params.iterations ? Math.max(1, Math.min(500, Math.round(params.iterations / 20))) : 500,
        ...(params.name &&
          params.consent && {
            identity: {
              name: params.name,
              consent: {
                subjectConsent: true,
                statement: params.consent.statement,
                recordedAt: params.consent.recordedAt,
              },
            },
          }),
        signal: context.signal,
        onProgress: (p) => context.progress(toJobProgress(p)),
        onLog: (line) => context.log('info', line),
      });
      return {
        frames: dataset.frames,
        datasetReused: dataset.reused,
        iterations: result.iterations,
        trainingSeconds: result.seconds,
        resumedAt: result.resumedAt,
        motionPrior: prior ? prior.provenance.datasets.map((d) => d.name) : null,
      };
    },
  };
}

/** A damaged or missing prior fails the job with the reason (retrying cannot fix it). */
async function loadPrior(folder: string) {
  try {
    return await loadMotionPrior(path.join(folder, PRIOR_FILE));
  } catch (error) {
    if (error instanceof MotionPriorError) throw new JobFailure(error.message);
    throw error;
  }
}
