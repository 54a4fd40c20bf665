// A test double executor: counts `steps` steps of `stepMs`, checkpointing after each into the job's folder, so a
// restarted attempt resumes where the last one stopped. `failAt` fails cleanly at that step, `crashAt` exits the
// process, `ignoreCancel` keeps going after a cancel (the runner must kill it).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultModelConfig, makeFixtureIdentity } from '@splatcast/engine';
import { type JobExecutor, JobFailure } from '../../../src/jobs/executor.js';
import { writeFileAtomic } from '../../../src/storage/atomic.js';

function smallModel() {
  const model = defaultModelConfig();
  for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
    grid.log2Table = 10;
  return model;
}

interface Params {
  steps?: number;
  stepMs?: number;
  failAt?: number;
  crashAt?: number;
  ignoreCancel?: boolean;
  kind?: 'adaptation' | 'pretraining';
}

export default function counting(): JobExecutor {
  return {
    kind: (process.env.COUNTING_KIND as 'adaptation' | 'pretraining' | undefined) ?? 'adaptation',
    async run({ job, dataDir, signal, progress, log, device }) {
      const p = job.params as Params;
      const steps = p.steps ?? (job.params.iterations as number | undefined) ?? 10;
      const stepMs = p.stepMs ?? Number(process.env.COUNTING_STEP_MS ?? 10);
      const dir = dataDir.job(job.id);
      await mkdir(dir, { recursive: true });
      const checkpoint = path.join(dir, 'checkpoint.json');
      const resumed = await readFile(checkpoint, 'utf8').then(
        (t) => JSON.parse(t).step as number,
        () => 0,
      );
      await writeFile(path.join(dir, `pid-${job.attempts}`), String(process.pid));
      await writeFile(
        path.join(dir, `start-${job.attempts}`),
        `${resumed} ${device} ${process.env.CUDA_VISIBLE_DEVICES ?? ''}`,
      );
      log('info', `counting from ${resumed} to ${steps}`);
      for (let step = resumed; step < steps; step++) {
        if (signal.aborted && !p.ignoreCancel) throw signal.reason;
        if (step === p.failAt) throw new JobFailure(`step ${step} is unlucky`);
        if (step === p.crashAt) process.exit(7);
        await new Promise((resolve) => setTimeout(resolve, stepMs));
        // Atomically, as a real trainer must: a kill mid-write leaves the previous checkpoint, never half of one.
        await writeFileAtomic(checkpoint, JSON.stringify({ step: step + 1 }));
        progress({ stage: 'counting', iteration: step + 1, total: steps, loss: 1 / (step + 1) });
      }
      // As an adaptation inside a whole server (durability tests), end like one: with a loadable package.
      if (process.env.COUNTING_WRITES_PACKAGE && job.identityId)
        await makeFixtureIdentity({
          out: dataDir.identity(job.identityId).package,
          seed: 5,
          faceGaussians: 200,
          mouthGaussians: 50,
          frames: 5,
          model: smallModel(),
        });
      return { counted: steps, resumedFrom: resumed };
    },
  };
}
