// The training graph: its forward is the renderer's (what is trained is what is streamed), and its backward is the
// gradient of its loss, checked end to end (every op chained: audio nets, aligners, grids, motion fields, hook,
// deform, rasterizer, composite, L1 + D-SSIM) against finite differences along random directions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { makeFixtureIdentity } from '../src/identity/fixture.js';
import { TENSOR_NAMES, type TensorName } from '../src/identity/tensors.js';
import { defaultModelConfig } from '../src/model/config.js';
import { DeviceIdentity } from '../src/render/device-identity.js';
import { Renderer } from '../src/render/renderer.js';
import { fixtureFrame } from '../src/testing/fixture-frame.js';
import { derivativeAlong } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';
import { DSSIM_LAMBDA, FrameGraph, type GraphPlan } from '../src/train/frame-graph.js';
import { ModelParams } from '../src/train/model-params.js';

const SIZE = 48;
const model = defaultModelConfig();
for (const grid of [model.face.motionGrid, model.face.alignerGrid, model.mouth.motionGrid, model.mouth.alignerGrid])
  grid.log2Table = 10;
const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-train-graph-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const identity = await makeFixtureIdentity({
  out: path.join(dir, 'id'),
  seed: 3,
  faceGaussians: 600,
  mouthGaussians: 200,
  frames: 4,
  model,
});
const m = identity.manifest;

const everything: GraphPlan = {
  faceMotion: true,
  mouth: true,
  aligner: true,
  face: 'all',
  mouthTraining: 'all',
  audio: true,
  faceTarget: false,
};

const hooked = new Map<boolean, Float32Array>();
for (const hook of [true, false])
  t.test(`the training forward renders what the server renders (hook ${hook ? 'on' : 'off'})`, async (t) => {
    const target = new Float32Array(SIZE * SIZE * 3);
    const frame = fixtureFrame(identity, 'cpu', SIZE, 2, target, 7);
    const config = structuredClone(m.model);
    config.mouth.hook = hook;
    const P = new ModelParams('cpu', config, identity.weights, m.gaussians);
    const graph = new FrameGraph('cpu', config, SIZE);
    const device = DeviceIdentity.upload({ ...identity, manifest: { ...m, model: config } }, 'cpu', {
      width: SIZE,
      height: SIZE,
    });
    const renderer = new Renderer({ device: 'cpu', width: SIZE, height: SIZE });
    t.teardown(() => {
      for (const x of [P, graph, device, renderer]) x.dispose();
    });
    const trained = graph.forward(P, frame, everything, true).read();
    const served = renderer
      .renderRgb([
        { identity: device, trackFrame: 2, audioWindows: frame.windows.read(), expression: frame.expression.read() },
      ])
      .image.read();
    t.equal(trained.length, served.length);
    t.ok(
      trained.some((v) => v > 0.05),
      'a visible image',
    );
    t.same(Array.from(trained), Array.from(served), 'bit-identical images');
    hooked.set(hook, trained);
  });
t.test('switching the hook off changes the mouth', async (t) => {
  const [on, off] = [hooked.get(true), hooked.get(false)];
  t.ok(on && off && on.some((v, i) => v !== off[i]), 'the mouth field sees the face motion only with the hook');
});

// Float32 rendering limits finite differences: the step must move the loss well above its rounding (~1e-7) yet stay
// where the render is near-linear (a hash-grid cell is millimetres; an aligner offset moves the query in metres). So
// the direction is the analytic gradient itself (a wrong gradient changes the loss at another rate along it), the
// step is set per group to change the loss by about `relative` of itself, and two steps are combined by Richardson
// extrapolation to cancel the curvature. The motion is amplified (displacementScale 1) so its path is measurable.
// The tolerance (8 %) covers what no analytic 3DGS gradient includes: Gaussians crossing the rasteriser's cut-offs
// (alpha < 1/255 is skipped, footprints end at 3 sigma), which finite differences see as small jumps; alone, the
// deform and rasteriser show the same 2-5 % on scales. face.audioAttention gates the audio code through ReLUs and is
// too weak here to measure in float32 (its op-level gradient check covers it; audio.net below runs through it).
t.test('the training backward is the gradient of the loss (finite differences along it)', async (t) => {
  const amplified = structuredClone(m.model);
  amplified.displacementScale = 1;
  const random = rng(11);
  const target = uniform(random, SIZE * SIZE * 3, 0, 1);
  const frame = fixtureFrame(identity, 'cpu', SIZE, 1, target, 9);
  const P = new ModelParams('cpu', amplified, identity.weights, m.gaussians);
  const graph = new FrameGraph('cpu', amplified, SIZE);
  t.teardown(() => {
    P.dispose();
    graph.dispose();
  });
  const loss = () => {
    graph.forward(P, frame, everything, true);
    const { l1, dssim } = graph.backward(P, { face: null, mouth: null });
    return (1 - DSSIM_LAMBDA) * (l1.read()[0] as number) + DSSIM_LAMBDA * (dssim.read()[0] as number);
  };
  P.zeroGrad();
  const L0 = loss();
  const grads = new Map(TENSOR_NAMES.map((name) => [name, P.grad(name).read()]));
  // Every group the plan trains receives a gradient (the graph wires it); some are too weak here to measure below.
  for (const name of TENSOR_NAMES)
    t.ok(
      (grads.get(name) as Float32Array).some((v) => v !== 0),
      `${name} gets a gradient`,
    );
  const measured: [TensorName, number][] = [
    ['face.xyz', 1e-3],
    ['face.rotation', 1e-3],
    ['face.scale', 1e-3],
    ['face.opacity', 1e-3],
    ['face.sh', 1e-3],
    ['face.decoder', 3e-4],
    ['face.motionGrid', 1e-4],
    ['face.aligner', 1e-5],
    ['face.alignerGrid', 3e-5],
    ['mouth.xyz', 1e-4],
    ['mouth.scale', 1e-3],
    ['mouth.sh', 1e-3],
    ['mouth.decoder', 1e-3],
    ['mouth.motionGrid', 1e-4],
    ['mouth.aligner', 1e-5],
    ['audio.net', 1e-5],
  ];
  for (const [name, relative] of measured) {
    const { norm, numeric, error } = derivativeAlong(
      loss,
      P.value(name),
      grads.get(name) as Float32Array,
      relative,
      L0,
    );
    t.ok(
      error < 0.05,
      `${name}: |gradient| ${norm.toExponential(4)}, finite difference ${numeric.toExponential(4)} (error ${error.toFixed(4)})`,
    );
  }
});
