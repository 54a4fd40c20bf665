import t from 'tap';
import { addon } from '../src/native/addon.js';
import { type Camera, packCameras, type RasterizeArgs, Rasterizer } from '../src/ops/rasterizer.js';
import { Tensor } from '../src/tensor.js';
import { rng } from '../src/testing/random.js';

// The training API around the rasterizer's backward pass; the gradients themselves are checked against float64
// finite differences in rasterizer-backward.test.ts.

const f32 = (shape: number[], data?: Float32Array) =>
  data ? Tensor.from('cpu', 'f32', shape, data) : Tensor.zeros('cpu', 'f32', shape);

/** Two segments of random Gaussians in front of two cameras, 48x32, SH degree 1. */
function scene(seed: number): RasterizeArgs {
  const random = rng(seed);
  const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * random());
  const counts = [40, 30];
  const rows = 70;
  const cam = (tx: number): Camera => ({
    worldToCamera: [1, 0, 0, tx, 0, 1, 0, 0, 0, 0, 1, 2, 0, 0, 0, 1],
    fx: 40,
    fy: 40,
    cx: 24,
    cy: 16,
  });
  return {
    rowCounts: counts,
    means: f32([rows, 3], u(rows * 3, -0.4, 0.4)),
    rotations: f32([rows, 4], u(rows * 4, -1, 1)),
    scales: f32([rows, 3], u(rows * 3, 0.03, 0.12)),
    opacities: counts.map((n) => f32([n], u(n, -2, 3))),
    sh: counts.map((n) => f32([n, 4, 3], u(n * 12, -0.6, 0.6))),
    cameras: f32([2, 20], packCameras([cam(0), cam(0.1)])),
    width: 48,
    height: 32,
    shDegree: 1,
    rgb: f32([2, 32, 48, 3]),
    alpha: f32([2, 32, 48]),
    depth: f32([2, 32, 48]),
  };
}

function gradients(r: Rasterizer, dDepth: Tensor<'f32'> | undefined, seed = 5) {
  const random = rng(seed);
  const up = (shape: number[]) =>
    f32(
      shape,
      Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => 2 * random() - 1),
    );
  const out = {
    dMeans: f32([70, 3]),
    dRotations: f32([70, 4]),
    dScales: f32([70, 3]),
    dOpacities: f32([70]),
    dSh: f32([70, 4, 3]),
    means2dGradNorm: f32([70]),
    radii: f32([70]),
  };
  r.backward({ dRgb: up([2, 32, 48, 3]), dAlpha: up([2, 32, 48]), ...(dDepth ? { dDepth } : {}), ...out });
  return Object.values(out).map((t) => Array.from(t.read()));
}

t.test('training forward: same images; backward repeatable, allocation-free, dDepth optional', async (t) => {
  const r = new Rasterizer('cpu');
  const args = scene(3);
  r.forward(args);
  const plain = [args.rgb.read(), args.alpha.read(), args.depth?.read()];
  t.ok(
    (args.alpha.read() as Float32Array).some((a) => a > 0.5),
    'the scene covers pixels',
  );
  r.forward(args, { train: true });
  t.same([args.rgb.read(), args.alpha.read(), args.depth?.read()], plain, 'identical rgb, alpha, depth bits');
  const first = gradients(r, f32([2, 32, 48]));
  const reserved = r.reservedBytes;
  t.same(gradients(r, f32([2, 32, 48])), first, 'deterministic');
  r.forward(args, { train: true });
  t.same(gradients(r, f32([2, 32, 48])), first, 'again after a new training forward');
  t.equal(r.reservedBytes, reserved, 'the second forward and backward allocate nothing');
  t.same(gradients(r, undefined), first, 'dDepth omitted = dDepth zero');
  t.notSame(
    gradients(r, f32([2, 32, 48], new Float32Array(2 * 32 * 48).fill(1))),
    first,
    'dDepth reaches the gradients',
  );
  r.dispose();
});

t.test('backward refuses a missing or replaced training context and bad gradients, with clear errors', async (t) => {
  const r = new Rasterizer('cpu');
  const f32 = (shape: number[]) => Tensor.zeros('cpu', 'f32', shape);
  const args = () => ({
    rowCounts: [2],
    means: f32([2, 3]),
    rotations: f32([2, 4]),
    scales: f32([2, 3]),
    opacities: [f32([2])],
    sh: [f32([2, 1, 3])],
    cameras: f32([1, 20]),
    width: 32,
    height: 16,
    shDegree: 0,
    rgb: f32([1, 16, 32, 3]),
    alpha: f32([1, 16, 32]),
  });
  const grads = () => ({
    dRgb: f32([1, 16, 32, 3]),
    dAlpha: f32([1, 16, 32]),
    dMeans: f32([2, 3]),
    dRotations: f32([2, 4]),
    dScales: f32([2, 3]),
    dOpacities: f32([2]),
    dSh: f32([2, 1, 3]),
  });
  t.throws(() => r.backward(grads()), /needs a training forward just before it: no forward has run yet/);
  r.forward(args(), { train: true });
  t.doesNotThrow(() => r.backward(grads()));
  t.doesNotThrow(() => r.backward(grads()), 'backward may run again on the same context');
  r.forward(args());
  t.throws(() => r.backward(grads()), /last forward ran without \{ train: true \} and replaced the training context/);
  t.throws(() => r.forward({ ...args(), means: f32([3, 3]) }, { train: true }), /means must be f32\[2,3\]/);
  t.throws(() => r.backward(grads()), /the last forward failed/);
  r.forward(args(), { train: true });
  t.throws(() => r.backward({ ...grads(), dRgb: f32([1, 16, 31, 3]) }), /dRgb must be f32\[1,16,32,3\]/);
  t.throws(() => r.backward({ ...grads(), dDepth: f32([1, 16]) }), /dDepth must be f32\[1,16,32\]/);
  t.throws(() => r.backward({ ...grads(), dSh: f32([2, 3]) }), /dSh must be f32\[2,1,3\]/);
  t.throws(() => r.backward({ ...grads(), dOpacities: f32([1]) }), /dOpacities must be f32\[2\]/);
  t.throws(() => r.backward({ ...grads(), radii: f32([3]) }), /radii must be f32\[2\]/);
  // Native callers must hand back the forward's own tensors.
  const ws = new addon.RasterWorkspace(0);
  const a = args();
  const g = grads();
  const n = (x: Tensor) => x.native;
  const forward = (train: boolean) =>
    ws.forward(
      { width: 32, height: 16, shDegree: 0 },
      [2],
      n(a.means),
      n(a.rotations),
      n(a.scales),
      a.opacities.map(n),
      a.sh.map(n),
      n(a.cameras),
      n(a.rgb),
      n(a.alpha),
      null,
      train,
    );
  const backward = (means: Tensor) =>
    ws.backward(
      n(means),
      n(a.rotations),
      n(a.scales),
      a.opacities.map(n),
      a.sh.map(n),
      n(a.cameras),
      n(g.dRgb),
      n(g.dAlpha),
      null,
      n(g.dMeans),
      n(g.dRotations),
      n(g.dScales),
      n(g.dOpacities),
      n(g.dSh),
      null,
      null,
    );
  forward(true);
  t.throws(() => backward(f32([2, 3])), /training forward's own input tensors, unchanged; means is a different tensor/);
  t.doesNotThrow(() => backward(a.means));
  forward(false);
  t.throws(() => backward(a.means), /backward needs a training forward \(train = true\) just before it/);
  ws.dispose();
  r.dispose();
  t.throws(() => r.backward(grads()), /the rasterizer was disposed/);
});
