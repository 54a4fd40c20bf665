// A test double for adaptation that ends with a real, loadable package: it reports a few training steps, then
// writes a small fixture identity (the engine's makeFixtureIdentity) where training would put the package.
import { defaultModelConfig, type ModelConfig, makeFixtureIdentity } from '@splatcast/engine';
import type { JobExecutor } from '../../../src/jobs/executor.js';

function smallModel(): ModelConfig {
  const model = defaultModelConfig();
  for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
    grid.log2Table = 10;
  return model;
}

export default function fixtureAdapter(): JobExecutor {
  return {
    kind: 'adaptation',
    async run({ job, dataDir, progress, signal, log }) {
      const steps = (job.params.iterations as number | undefined) ?? 5;
      for (let i = 1; i <= steps; i++) {
        signal.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, (job.params.stepMs as number | undefined) ?? 20));
        progress({ stage: 'training', iteration: i, total: steps, loss: 1 / i, psnr: 20 + i, etaSeconds: steps - i });
      }
      await makeFixtureIdentity({
        out: dataDir.identity(job.identityId as string).package,
        seed: 3,
        faceGaussians: 500,
        mouthGaussians: 100,
        frames: 10,
        model: smallModel(),
      });
      log('info', 'package written');
      return { steps };
    },
  };
}
