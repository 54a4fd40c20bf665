import { ADAPT_SCHEDULE, DEFAULT_PRETRAIN_SCHEDULE, DEFAULT_SCHEDULE } from '@splatcast/engine';
import t from 'tap';
import { pretrainScheduleFor, scheduleFor, toJobProgress } from '../../src/jobs/engine-training.js';

t.test('an iteration budget splits like the engine schedule it scales', async (t) => {
  t.equal(scheduleFor(undefined, false), undefined, "no budget: the engine's default");
  const total = (s: ReturnType<typeof scheduleFor>) =>
    (s?.faceIterations ?? 0) + (s?.mouthIterations ?? 0) + (s?.fuseIterations ?? 0);
  const scratch = scheduleFor(15000, false);
  t.same(scratch, {
    staticIterations: DEFAULT_SCHEDULE.staticIterations,
    warmupIterations: 0,
    faceIterations: DEFAULT_SCHEDULE.faceIterations,
    mouthIterations: DEFAULT_SCHEDULE.mouthIterations,
    fuseIterations: DEFAULT_SCHEDULE.fuseIterations,
  });
  const adapt = scheduleFor(1500, true);
  t.ok(
    adapt && adapt.warmupIterations === ADAPT_SCHEDULE.warmupIterations / 10,
    'a tenth of the budget, a tenth of each stage',
  );
  t.equal(total(adapt), 1500);
  // Tiny budgets still give a valid schedule: static + warm-up < face, every stage at least one iteration.
  const tiny = scheduleFor(5, true);
  t.ok(tiny && tiny.staticIterations + tiny.warmupIterations < tiny.faceIterations, JSON.stringify(tiny));
});

t.test('a pre-training budget is split per video', async (t) => {
  t.equal(pretrainScheduleFor(undefined, 3), undefined);
  const d = DEFAULT_PRETRAIN_SCHEDULE;
  const per = d.staticIterations + d.faceIterations + d.mouthIterations;
  t.same(pretrainScheduleFor(3 * per, 3), d);
  t.same(pretrainScheduleFor(1, 4), { staticIterations: 1, faceIterations: 1, mouthIterations: 1 });
});

t.test('engine progress becomes job progress, non-finite numbers left out', async (t) => {
  t.same(
    toJobProgress({
      stage: 'face',
      iteration: 3,
      stageIterations: 10,
      done: 5,
      total: 20,
      loss: 0.1,
      psnr: Number.NaN,
      gaussians: { face: 1, mouth: 1 },
      iterationsPerSecond: 2,
      etaSeconds: Number.POSITIVE_INFINITY,
    }),
    { stage: 'training: face', iteration: 5, total: 20, loss: 0.1 },
  );
});
