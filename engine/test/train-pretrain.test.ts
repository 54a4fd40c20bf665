// Identity-free pre-training and motion-aligned adaptation: the personalised fields' part of the training graph is
// the gradient of its loss (photometric + Negative Contrast Loss); a tiny pre-training on two shared clips writes a
// motion prior that loads, resumes bit for bit after a cancel, refuses damaged files, and adapts a third identity
// that the renderer loads and plays.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { makeFixtureIdentity } from '../src/identity/fixture.js';
import { loadIdentity } from '../src/identity/package.js';
import { defaultModelConfig } from '../src/model/config.js';
import { mlpWeights } from '../src/model/init.js';
import { prepareDataset } from '../src/prepare/prepare-dataset.js';
import { DeviceIdentity } from '../src/render/device-identity.js';
import { Renderer } from '../src/render/renderer.js';
import { fixtureFrame } from '../src/testing/fixture-frame.js';
import { derivativeAlong } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';
import { DSSIM_LAMBDA, FrameGraph, type GraphPlan } from '../src/train/frame-graph.js';
import { ModelParams } from '../src/train/model-params.js';
import { loadMotionPrior, MotionPriorError, PRIOR_TENSORS } from '../src/train/motion-prior.js';
import {
  PERSONAL_TENSORS,
  PersonalField,
  PersonalFieldOps,
  type PersonalTensorName,
} from '../src/train/personal-field.js';
import { type PretrainProgress, pretrainMotionPrior } from '../src/train/pretrain.js';
import { TrainingAborted, trainIdentity } from '../src/train/trainer.js';

const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-pretrain-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('personalised fields: the backward is the gradient of photometric + contrast loss', async (t) => {
  // The fixture of train-graph.test.ts, where the mouth's path (dilated alpha) is smooth enough to measure.
  const SIZE = 48;
  const model = defaultModelConfig();
  for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
    grid.log2Table = 10;
  const identity = await makeFixtureIdentity({
    out: path.join(dir, 'fixture'),
    seed: 3,
    faceGaussians: 600,
    mouthGaussians: 200,
    frames: 4,
    model,
  });
  // Motion amplified (as train-graph.test.ts) so that its path is measurable in float32.
  const amplified = structuredClone(identity.manifest.model);
  amplified.displacementScale = 1;
  const random = rng(21);
  const frame = fixtureFrame(identity, 'cpu', SIZE, 1, uniform(random, SIZE * SIZE * 3, 0, 1), 9);
  const P = new ModelParams('cpu', amplified, identity.weights, identity.manifest.gaussians);
  const ops = new PersonalFieldOps(amplified);
  // Live decoders (a new field's are zero, which has no contrast to measure).
  const live = () => {
    const w = ops.initialWeights(random);
    w['face.decoder'] = mlpWeights(random, ops.shapes.face.decoder, 0.1);
    w['mouth.decoder'] = mlpWeights(random, ops.shapes.mouth.decoder, 0.1);
    w['mouth.hookScaler'] = mlpWeights(random, ops.shapes.mouth.hookScaler, 0.1);
    for (const grid of ['face.motionGrid', 'mouth.motionGrid'] as const)
      w[grid] = uniform(random, w[grid].length, -0.02, 0.02);
    return w;
  };
  const own = new PersonalField('cpu', ops, live());
  const negative = new PersonalField('cpu', ops, live());
  const graph = new FrameGraph('cpu', amplified, SIZE);
  t.teardown(() => {
    for (const x of [P, own, negative, graph]) x.dispose();
  });
  const plan: GraphPlan = {
    faceMotion: true,
    mouth: true,
    aligner: false,
    face: 'all',
    mouthTraining: 'all',
    audio: true,
    faceTarget: false,
  };
  let contrastShare = 0;
  const loss = () => {
    for (const field of [own, negative]) for (const name of PERSONAL_TENSORS) field.grad(name).native.fillZero();
    P.zeroGrad();
    graph.forward(P, frame, plan, true, { own, negative, contrastWeight: 3000 });
    const { l1, dssim, contrast } = graph.backward(P, { face: null, mouth: null });
    const c = contrast.reduce((sum, x) => sum + (x.read()[0] as number), 0);
    const photometric = (1 - DSSIM_LAMBDA) * (l1.read()[0] as number) + DSSIM_LAMBDA * (dssim.read()[0] as number);
    contrastShare = c / (c + photometric);
    return photometric + c;
  };
  const L0 = loss();
  // Small next to the photometric loss here; the negative's gradients below come from it alone.
  t.ok(contrastShare > 0, `the contrast loss is positive (${(100 * contrastShare).toFixed(3)} % of the loss)`);
  type Probe = { name: string; tensor: () => ReturnType<PersonalField['value']>; grad: Float32Array; relative: number };
  const probe = (field: PersonalField, name: PersonalTensorName, relative: number, label: string): Probe => ({
    name: `${label} ${name}`,
    tensor: () => field.value(name),
    grad: field.grad(name).read(),
    relative,
  });
  const probes: Probe[] = [
    probe(own, 'face.decoder', 1e-4, 'own'),
    probe(own, 'face.motionGrid', 1e-4, 'own'),
    probe(own, 'mouth.decoder', 3e-3, 'own'),
    probe(negative, 'face.decoder', 3e-4, 'negative'),
    { name: 'face.xyz', tensor: () => P.value('face.xyz'), grad: P.grad('face.xyz').read(), relative: 1e-3 },
    {
      name: 'face.decoder',
      tensor: () => P.value('face.decoder'),
      grad: P.grad('face.decoder').read(),
      relative: 3e-4,
    },
  ];
  for (const { name, tensor, grad, relative } of probes) {
    t.ok(
      grad.some((v) => v !== 0),
      `${name} gets a gradient`,
    );
    const { norm, numeric, error } = derivativeAlong(loss, tensor(), grad, relative, L0);
    t.ok(error < 0.05, `${name}: |gradient| ${norm.toExponential(4)}, finite difference ${numeric.toExponential(4)}`);
  }

  // The personal-motion report: present for both branches, and against itself a field's mean dot product is its
  // mean squared norm (3 ownRms² over the three position offsets).
  loss();
  const motion = graph.personalMotion();
  for (const branch of ['face', 'mouth'] as const) {
    const m = motion[branch];
    t.ok(m && m.ownRms > 0 && m.sumRms > m.ownRms / 100 && m.negativeDot !== null, `${branch}: ${JSON.stringify(m)}`);
  }
  graph.forward(P, frame, plan, false, { own, negative: own, contrastWeight: 1 });
  for (const [branch, m] of Object.entries(graph.personalMotion())) {
    const expected = 3 * m.ownRms ** 2;
    t.ok(
      Math.abs((m.negativeDot ?? 0) - expected) <= 1e-4 * expected,
      `${branch}: self dot ${m.negativeDot} = ${expected}`,
    );
  }
});

const here = path.dirname(fileURLToPath(import.meta.url));
const media = path.resolve(here, '../../../shared/media/video');
const clips = ['may_5s.mp4', 'vr_face2_5s.mp4', 'vr_face5_5s.mp4'].map((c) => path.join(media, c));
const skip = clips.every(existsSync) ? false : `shared clips are absent (${media})`;

t.test('pre-train on two clips, adapt a third person', { skip }, async (t) => {
  const datasets = await Promise.all(
    clips.map(async (clip, i) => {
      const out = path.join(dir, `clip${i}`);
      await prepareDataset(clip, out, { size: 96, limits: { maxSeconds: 3 } });
      return out;
    }),
  );
  const [a, b, held] = datasets as [string, string, string];
  const options = {
    datasets: [a, b],
    device: 'cpu' as const,
    size: 32,
    schedule: { staticIterations: 10, faceIterations: 20, mouthIterations: 10 },
    initialGaussians: { face: 300, mouth: 100 },
    checkpointEvery: 12,
    progressEvery: 4,
  };
  const straight = path.join(dir, 'straight.safetensors');
  const reports: PretrainProgress[] = [];
  const result = await pretrainMotionPrior({ ...options, out: straight, onProgress: (p) => reports.push(p) });
  t.equal(result.iterations, 2 * (10 + 20 + 10), 'per-video iterations, both videos');
  t.ok(
    reports.filter((p) => p.stage === 'face-static').every((p) => p.personal === null) &&
      reports.filter((p) => p.stage !== 'face-static').every((p) => p.personal && p.personal.ownRms > 0),
    'the personal fields move (and are reported) once the motion trains',
  );
  const prior = await loadMotionPrior(straight);
  t.same(
    prior.provenance.datasets.map((d) => d.name),
    ['may_5s.mp4', 'vr_face2_5s.mp4'],
    'the prior names the people it has seen',
  );
  t.ok(
    prior.weights['face.decoder'].some((v) => v !== 0),
    'the universal face decoder has learned (it starts at zero)',
  );

  // Cancelled and resumed: the same prior, bit for bit.
  const controller = new AbortController();
  const resumedOut = path.join(dir, 'resumed.safetensors');
  const cancelled = await pretrainMotionPrior({
    ...options,
    out: resumedOut,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.done >= 44) controller.abort();
    },
  }).catch((e) => e);
  t.ok(cancelled instanceof TrainingAborted, 'cancelled');
  const resumed = await pretrainMotionPrior({ ...options, out: resumedOut });
  t.ok(resumed.resumedAt > 0 && resumed.resumedAt <= 44, `resumed after ${resumed.resumedAt}`);
  const resumedPrior = await loadMotionPrior(resumedOut);
  for (const name of PRIOR_TENSORS)
    t.same([...resumedPrior.weights[name]], [...prior.weights[name]], `${name}: bit-identical after resume`);

  // Damaged or foreign files are refused with the reason.
  const bytes = await readFile(straight);
  const truncated = path.join(dir, 'truncated.safetensors');
  await writeFile(truncated, bytes.subarray(0, bytes.length >> 1));
  await t.rejects(loadMotionPrior(truncated), MotionPriorError);
  await t.rejects(loadMotionPrior(path.join(dir, 'nowhere.safetensors')), /cannot read it/);
  const identityWeights = path.join(dir, 'clip0', 'dataset.json');
  await t.rejects(loadMotionPrior(identityWeights), /not a safetensors file/);

  // Adaptation of the held-out person from the prior: a package the renderer plays.
  const adapted = await trainIdentity({
    dataset: held,
    out: path.join(dir, 'adapted'),
    device: 'cpu',
    size: 32,
    prior,
    schedule: { faceIterations: 30, staticIterations: 5, warmupIterations: 10, mouthIterations: 10, fuseIterations: 5 },
    initialGaussians: { face: 300, mouth: 100 },
  });
  t.same(
    adapted.stages.map((s) => s.name),
    ['face-static', 'face-warmup', 'face', 'mouth', 'fuse'],
    'static, warm-up, aligned face, mouth, fuse',
  );
  t.match(adapted.manifest.provenance.tools.motionPrior, /may_5s\.mp4, vr_face2_5s\.mp4/);
  const identity = await loadIdentity(path.join(dir, 'adapted'));
  const device = DeviceIdentity.upload(identity, 'cpu', { width: 32, height: 32 });
  const renderer = new Renderer({ device: 'cpu', width: 32, height: 32 });
  t.teardown(() => {
    device.dispose();
    renderer.dispose();
  });
  const layout = identity.manifest.model.audio;
  const windows = new Float32Array(
    (layout.attentionBefore + 1 + layout.attentionAfter) * layout.window * layout.featureDim,
  ).fill(0.1);
  const image = renderer.renderRgb([{ identity: device, trackFrame: 0, audioWindows: windows }]).image.read();
  t.ok(image.every(Number.isFinite) && image.some((v) => v > 0.05), 'the adapted identity renders');

  await t.rejects(
    trainIdentity({ dataset: held, out: path.join(dir, 'x'), device: 'cpu', prior, model: defaultModelConfig() }),
    /differs from the motion prior/,
  );
});
