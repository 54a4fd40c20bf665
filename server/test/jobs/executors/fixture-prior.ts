// A test double for pre-training: writes a small file into the prior's folder after a few steps.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JobExecutor } from '../../../src/jobs/executor.js';

export default function fixturePrior(): JobExecutor {
  return {
    kind: 'pretraining',
    async run({ job, dataDir, progress }) {
      for (let i = 1; i <= 3; i++) progress({ stage: 'pre-training', iteration: i, total: 3 });
      const dir = dataDir.prior(job.params.priorId as string);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'prior.json'), JSON.stringify({ identities: job.params.identityIds }));
      return { datasets: (job.params.identityIds as string[]).length };
    },
  };
}
