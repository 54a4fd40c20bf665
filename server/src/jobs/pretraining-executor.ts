// Pre-training: a motion prior from several identities' datasets (each prepared first if it is not yet), written as
// prior.safetensors into the prior's folder. Resumes from its checkpoints in the job's own folder.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pretrainMotionPrior } from '@splatcast/engine';
import { ensureDataset } from './dataset-stage.js';
import { PRIOR_FILE, pretrainScheduleFor, toJobProgress } from './engine-training.js';
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
      const folder = dataDir.prior(params.priorId);
      await mkdir(folder, { recursive: true });
      const schedule = pretrainScheduleFor(params.iterations, datasets.length);
      const result = await pretrainMotionPrior({
        datasets,
        out: path.join(folder, PRIOR_FILE),
        device: context.device,
        ...(schedule && { schedule }),
        checkpointDir,
        checkpointEvery: params.iterations ? Math.max(1, Math.min(2000, Math.round(params.iterations / 20))) : 2000,
        signal: context.signal,
        onProgress: (p) => context.progress(toJobProgress(p)),
        onLog: (line) => context.log('info', line),
      });
      return {
        priorId: params.priorId,
        datasets: datasets.length,
        iterations: result.iterations,
        trainingSeconds: result.seconds,
        resumedAt: result.resumedAt,
      };
    },
  };
}
