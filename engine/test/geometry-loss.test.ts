import t from 'tap';
import { GEOMETRY_WORKSPACE, geometryLoss } from '../src/ops/geometry-loss.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError } from '../src/testing/gradcheck.js';
import { rng } from '../src/testing/random.js';

const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);
const [H, W] = [9, 11];
const K = { fx: 14, fy: 13, cx: 5.2, cy: 4.7 };

// Float64 reference of native/src/ops/geometry_loss.h: [depth term, normal term].
function reference(depth: Float64Array, alpha: Float64Array, prior: Float32Array, wd: number, wn: number) {
  const valid = (x: number, y: number) =>
    x >= 0 &&
    y >= 0 &&
    x < W &&
    y < H &&
    (prior[4 * (y * W + x) + 3] as number) > 0 &&
    (alpha[y * W + x] as number) > 0.5;
  const d = (x: number, y: number) => (depth[y * W + x] as number) / (alpha[y * W + x] as number);
  const point = (x: number, y: number) => {
    const z = d(x, y);
    return [((x + 0.5 - K.cx) / K.fx) * z, ((y + 0.5 - K.cy) / K.fy) * z, z];
  };
  const sub = (a: number[], b: number[]) => a.map((v, i) => v - (b[i] as number));
  const cross = (a: number[], b: number[]) => [
    (a[1] as number) * (b[2] as number) - (a[2] as number) * (b[1] as number),
    (a[2] as number) * (b[0] as number) - (a[0] as number) * (b[2] as number),
    (a[0] as number) * (b[1] as number) - (a[1] as number) * (b[0] as number),
  ];
  const ds: number[] = [];
  const zs: number[] = [];
  let normalSum = 0;
  let normals = 0;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      if (!valid(x, y)) continue;
      ds.push(d(x, y));
      zs.push(prior[4 * (y * W + x) + 3] as number);
      if (!(valid(x - 1, y) && valid(x + 1, y) && valid(x, y - 1) && valid(x, y + 1))) continue;
      const n = cross(sub(point(x, y + 1), point(x, y - 1)), sub(point(x + 1, y), point(x - 1, y)));
      const len = Math.hypot(...n);
      const p = 4 * (y * W + x);
      normalSum += 1 - n.reduce((s, v, i) => s + (v / len) * (prior[p + i] as number), 0);
      normals++;
    }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [md, mz] = [mean(ds), mean(zs)];
  let [saa, sbb, sab] = [0, 0, 0];
  ds.forEach((v, i) => {
    const b = (zs[i] as number) - mz;
    saa += (v - md) ** 2;
    sbb += b * b;
    sab += (v - md) * b;
  });
  return [wd * (1 - sab / Math.sqrt(saa * sbb)), normals > 0 ? (wn * normalSum) / normals : 0];
}

/** A tilted, bumpy surface 0.5 m away, a prior of another scale and offset plus noise, some holes in both. */
function scene(seed: number) {
  const random = rng(seed);
  const depth = new Float32Array(H * W);
  const alpha = new Float32Array(H * W);
  const prior = new Float32Array(H * W * 4);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const z = 0.5 + 0.01 * x - 0.006 * y + 0.004 * Math.sin(x * 1.3 + y);
      alpha[p] = random() < 0.1 ? 0.2 : 0.6 + 0.4 * random();
      depth[p] = z * (alpha[p] as number);
      const n = [0.1 * random() - 0.3, 0.2 + 0.1 * random(), -1];
      const len = Math.hypot(...n);
      prior.set([...n.map((v) => v / len), random() < 0.1 ? 0 : 1.3 * z + 0.2 + 0.01 * random()], 4 * p);
    }
  return { depth, alpha, prior };
}

t.test('geometry loss: values and gradients match float64 finite differences', async (t) => {
  const { depth, alpha, prior } = scene(5);
  const [wd, wn] = [0.7, 0.3];
  const loss = cpu([2], new Float32Array(2));
  const gradDepth = cpu([1, H, W], new Float32Array(H * W).fill(0.25));
  const gradAlpha = cpu([1, H, W], new Float32Array(H * W));
  geometryLoss(
    cpu([1, H, W], depth),
    cpu([1, H, W], alpha),
    cpu([1, H, W, 4], prior),
    { intrinsics: K, weightDepth: wd, weightNormal: wn },
    cpu([GEOMETRY_WORKSPACE], new Float32Array(GEOMETRY_WORKSPACE)),
    loss,
    { depth: gradDepth, alpha: gradAlpha },
  );
  const d64 = Float64Array.from(depth);
  const a64 = Float64Array.from(alpha);
  const expected = reference(d64, a64, prior, wd, wn);
  const got = loss.read();
  t.ok(Math.abs((got[0] as number) - (expected[0] as number)) < 1e-5, `depth term ${got[0]} vs ${expected[0]}`);
  t.ok(Math.abs((got[1] as number) - (expected[1] as number)) < 1e-5, `normal term ${got[1]} vs ${expected[1]}`);
  t.ok((expected[0] as number) > 1e-4 && (expected[1] as number) > 1e-3, 'both terms are active');
  const total = () => reference(d64, a64, prior, wd, wn).reduce((a, b) => a + b, 0);
  // gradDepth started at 0.25: the op adds. Pixels whose alpha sits at the 0.5 cut are not differentiable; none is.
  const wantDepth = [...d64.keys()].map((i) => 0.25 + centralDifference(total, d64, i, 1e-7));
  const wantAlpha = [...a64.keys()].map((i) => centralDifference(total, a64, i, 1e-7));
  t.ok(gradError(gradDepth.read(), wantDepth) < 1e-3, `depth gradient error ${gradError(gradDepth.read(), wantDepth)}`);
  t.ok(gradError(gradAlpha.read(), wantAlpha) < 1e-3, `alpha gradient error ${gradError(gradAlpha.read(), wantAlpha)}`);
});

t.test('geometry loss: a surface shaped like its prior costs nothing; no prior, no loss', async (t) => {
  const { alpha, prior } = scene(6);
  // Depth an affine function of the prior's (another scale and distance): the correlation is 1.
  const depth = new Float32Array(H * W).map(
    (_, p) => (0.4 * (prior[4 * p + 3] as number) + 0.1) * (alpha[p] as number),
  );
  const loss = cpu([2], new Float32Array(2));
  const run = (priorData: Float32Array) =>
    geometryLoss(
      cpu([1, H, W], depth),
      cpu([1, H, W], alpha),
      cpu([1, H, W, 4], priorData),
      { intrinsics: K, weightDepth: 1, weightNormal: 1 },
      cpu([GEOMETRY_WORKSPACE], new Float32Array(GEOMETRY_WORKSPACE)),
      loss,
      null,
    );
  run(prior);
  t.ok(Math.abs(loss.read()[0] as number) < 1e-5, `depth term ${loss.read()[0]}`);
  run(new Float32Array(H * W * 4));
  t.same([...loss.read()], [0, 0], 'an empty prior gives no terms');
});

t.test('geometry loss: shapes and intrinsics are checked', async (t) => {
  const image = cpu([1, H, W], new Float32Array(H * W));
  const ws = cpu([GEOMETRY_WORKSPACE], new Float32Array(GEOMETRY_WORKSPACE));
  const loss = cpu([2], new Float32Array(2));
  const options = { intrinsics: K, weightDepth: 1, weightNormal: 1 };
  t.throws(
    () => geometryLoss(image, image, cpu([1, H, W, 3], new Float32Array(H * W * 3)), options, ws, loss, null),
    /prior/,
  );
  t.throws(
    () =>
      geometryLoss(
        image,
        image,
        cpu([1, H, W, 4], new Float32Array(H * W * 4)),
        options,
        cpu([4], new Float32Array(4)),
        loss,
        null,
      ),
    /workspace/,
  );
  t.throws(
    () =>
      geometryLoss(
        image,
        image,
        cpu([1, H, W, 4], new Float32Array(H * W * 4)),
        { ...options, intrinsics: { ...K, fx: 0 } },
        ws,
        loss,
        null,
      ),
    /intrinsics/,
  );
});
