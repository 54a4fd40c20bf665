// The training schedule's stages: which parameter groups each stage trains, at which learning rates.
import t from 'tap';
import { DEFAULT_SCHEDULE, trainingStages } from '../src/train/stages.js';

const schedule = { ...DEFAULT_SCHEDULE, faceIterations: 1000, staticIterations: 100, mouthIterations: 400 };
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * b;
const peak = (stageName: string, group: string, networkLr: number) => {
  const stage = trainingStages({ ...schedule, networkLr }).find((s) => s.name === stageName);
  const g = stage?.groups.find((x) => x.name === group);
  if (!g) throw new Error(`${stageName} has no group ${group}`);
  return g.lr(0);
};

t.test('the motion networks start at networkLr, the hash grids at 5e-3 whatever it is', async (t) => {
  for (const lr of [5e-4, 2.5e-3]) {
    t.ok(close(peak('face', 'face.decoder', lr), lr), `face decoder at ${lr}`);
    t.ok(close(peak('face', 'audio.net', lr), lr), `audio net at ${lr}`);
    t.ok(close(peak('mouth', 'mouth.decoder', lr), lr), `mouth decoder at ${lr}`);
    t.ok(close(peak('face', 'face.motionGrid', lr), 5e-3), 'face grid unchanged');
    t.ok(close(peak('mouth', 'mouth.motionGrid', lr), 5e-3), 'mouth grid unchanged');
  }
  const stage = trainingStages({ ...schedule, networkLr: 1e-3 }).find((s) => s.name === 'face');
  const decoder = stage?.groups.find((g) => g.name === 'face.decoder');
  t.ok(decoder && close(decoder.lr(900), 1e-4), 'decays to a tenth over the stage');
});

t.test('an adaptation warm-up runs its networks at a tenth of networkLr', async (t) => {
  const stages = trainingStages({ ...schedule, warmupIterations: 300, networkLr: 2e-3 });
  const warm = stages.find((s) => s.name === 'face-warmup');
  t.ok(close(warm?.groups.find((g) => g.name === 'face.decoder')?.lr(0) ?? 0, 2e-4));
});

t.test('a learning rate outside (0, 1) is refused', async (t) => {
  for (const networkLr of [0, -1e-3, 1, Number.NaN])
    t.throws(() => trainingStages({ ...schedule, networkLr }), /networkLr must be in \(0, 1\)/, `${networkLr}`);
});
