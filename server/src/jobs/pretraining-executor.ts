// Pre-training: a universal motion prior from several identities' datasets (each prepared first if it is not yet),
// written as a prior package into the prior's folder. Resumes from its checkpoints in the job's own folder.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ensureDataset } from './dataset-stage.js';
import { pretrainMotionPrior, toJobProgress } from './engine-training.js';
import { type JobExecutor, JobFailure } from './executor.js';

export interface PretrainingParams {
  priorId: string;
  identityIds: string[];
  iterations?: number;
  size?: number;
}

export default function pretrainingExecutor(): JobExecutor {
  return {
    kind: 'pretraining',
    async run(context) {
      const { job, dataDir } = context;
      const params = job.params as unknown as PretrainingParams;
      if (!Array.isArray(params.identityIds) || params.identityIds.length === 0)
        throw new JobFailure('pre-training needs at least one identity dataset');
      const datasets: string[] = [];
      for (const [i, id] of params.identityIds.entries()) {
        const paths = dataDir.identity(id);
        await ensureDataset(paths, { size: params.size }, context, `dataset ${i + 1}/${params.identityIds.length} `);
        datasets.push(paths.dataset);
      }
      const checkpointDir = path.join(dataDir.job(job.id), 'checkpoints');
      await mkdir(checkpointDir, { recursive: true });
      await pretrainMotionPrior({
        datasets,
        out: dataDir.prior(params.priorId),
        device: context.device,
        iterations: params.iterations,
        checkpointDir,
        signal: context.signal,
        onProgress: (p) => context.progress(toJobProgress(p)),
      });
      return { priorId: params.priorId, datasets: datasets.length };
    },
  };
}
