// Adaptation: the identity's video becomes a streamable identity package. Two stages, each resumable: prepare (the
// dataset is kept once complete) and training (from the last checkpoint in the identity's checkpoints folder). The
// package is published by the engine's atomic save; the runner's hook validates it and marks the identity ready.
import { mkdir } from 'node:fs/promises';
import { ensureDataset } from './dataset-stage.js';
import { toJobProgress, trainIdentity } from './engine-training.js';
import { type JobExecutor, JobFailure } from './executor.js';

export interface AdaptationParams {
  iterations?: number;
  size?: number;
  maxSeconds?: number;
  /** The motion prior package folder to start from (resolved by the admin API from a prior id). */
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
      context.progress({ stage: 'training', iteration: 0, total: params.iterations ?? 0 });
      await trainIdentity({
        dataset: paths.dataset,
        out: paths.package,
        device: context.device,
        iterations: params.iterations,
        checkpointDir: paths.checkpoints,
        prior: params.priorDir,
        signal: context.signal,
        onProgress: (p) => context.progress(toJobProgress(p)),
      });
      return { frames: dataset.frames, datasetReused: dataset.reused };
    },
  };
}
