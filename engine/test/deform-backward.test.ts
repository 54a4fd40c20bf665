import t from 'tap';
import {
  alignerApplyBackward,
  type DeltaColumns,
  deformGaussiansBackward,
  FACE_DELTA_COLUMNS,
  gatherRowsBackward,
  MOUTH_DELTA_COLUMNS,
} from '../src/ops/deform.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

// Elementwise float32 gradients against float64 central differences (h = 1e-6).
const TOLERANCE = 1e-5;

const rowCounts = [7, 0, 12, 3];
const rows = rowCounts.reduce((a, b) => a + b, 0);
const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);
const nanFilled = (shape: number[]) => cpu(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));
const perSegment = (random: () => number, width: number, lo = -1, hi = 1) =>
  rowCounts.map((n) => uniform(random, n * width, lo, hi));
const toTensors = (data: Float32Array[], width: number) => data.map((d, s) => cpu([rowCounts[s] as number, width], d));
const rowsOf = rowCounts.flatMap((n, s) => [...Array(n).keys()].map((local) => ({ s, local })));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};
const at = (a: ArrayLike<number>, i: number) => a[i] as number;
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Central differences of `loss` for every entry of x (float64, perturbed in place). */
const differences = (loss: () => number, x: Float64Array, skip: (i: number) => boolean = () => false) =>
  [...x.keys()].map((i) => (skip(i) ? 0 : centralDifference(loss, x, i)));

t.test('gatherRowsBackward adds each row back into its segment source', async (t) => {
  const random = rng(1);
  const width = 5;
  const gradOut = uniform(random, rows * width);
  const base = perSegment(random, width);
  const grads = toTensors(base, width);
  gatherRowsBackward(rowCounts, cpu([rows, width], gradOut), grads);
  // loss = sum gradOut . gather(sources) is linear: its differences are exact.
  rowCounts.forEach((n, s) => {
    const source = Float64Array.from({ length: n * width }, () => random());
    const first = rowCounts.slice(0, s).reduce((a, b) => a + b, 0);
    const loss = () => dot(gradOut.subarray(first * width, (first + n) * width), source);
    const got = (grads[s] as Tensor<'f32'>).read().map((g, i) => g - ((base[s] as Float32Array)[i] as number));
    t.ok(gradError(got, differences(loss, source)) < TOLERANCE, `segment ${s}`);
  });
  // One identity in two segments: both rows add into the shared buffer.
  const shared = Tensor.zeros('cpu', 'f32', [1, 2]);
  gatherRowsBackward([1, 1], cpu([2, 2], new Float32Array([1, 2, 3, 4])), [shared, shared]);
  t.same(Array.from(shared.read()), [4, 6]);
});

t.test('alignerApplyBackward matches float64 finite differences', async (t) => {
  const random = rng(2);
  const raw = uniform(random, rows * 6, -8, 8);
  const gradQuery = uniform(random, rows * 3);
  const gradTau = uniform(random, rows * 3);
  const base = perSegment(random, 3);
  const gradMeans = toTensors(base, 3);
  const gradRaw = nanFilled([rows, 6]);
  alignerApplyBackward(
    rowCounts,
    cpu([rows, 6], raw),
    { query: cpu([rows, 3], gradQuery), tau: cpu([rows, 3], gradTau) },
    gradRaw,
    gradMeans,
  );
  const raw64 = Float64Array.from(raw);
  const means64 = rowCounts.map((n) => Float64Array.from({ length: n * 3 }, () => random()));
  const loss = () => {
    let sum = 0;
    rowsOf.forEach(({ s, local }, row) => {
      for (let c = 0; c < 3; c++) {
        const query = at(means64[s] as Float64Array, local * 3 + c) + (raw64[row * 6 + c] as number);
        const tau = Math.tanh((raw64[row * 6 + 3 + c] as number) / 5) * 0.25 + 1;
        sum += (gradQuery[row * 3 + c] as number) * query + (gradTau[row * 3 + c] as number) * tau;
      }
    });
    return sum;
  };
  t.ok(gradError(gradRaw.read(), differences(loss, raw64)) < TOLERANCE, 'raw');
  rowCounts.forEach((_, s) => {
    const got = (gradMeans[s] as Tensor<'f32'>).read().map((g, i) => g - ((base[s] as Float32Array)[i] as number));
    t.ok(gradError(got, differences(loss, means64[s] as Float64Array)) < TOLERANCE, `means of segment ${s}`);
  });
  // Without the tau gradient the scale half of gradRaw is zero.
  alignerApplyBackward(rowCounts, cpu([rows, 6], raw), { query: cpu([rows, 3], gradQuery), tau: null }, gradRaw, null);
  t.ok(
    gradRaw.read().every((v, i) => (i % 6 >= 3 ? v === 0 : v === gradQuery[Math.floor(i / 6) * 3 + (i % 6)])),
    'query only',
  );
});

const layouts: [string, number, DeltaColumns, boolean][] = [
  ['face decoder layout, with aligner tau', 11, FACE_DELTA_COLUMNS, true],
  ['mouth decoder layout (d_xyz only), no tau', 7, MOUTH_DELTA_COLUMNS, false],
  ['overlapping columns (each reader adds its part)', 5, { xyz: 0, rotation: 1, scale: 2 }, true],
];

for (const [name, stride, columns, withTau] of layouts) {
  t.test(`deformGaussiansBackward matches float64 finite differences: ${name}`, async (t) => {
    const random = rng(3 + stride);
    const rotations = perSegment(random, 4);
    const scales = perSegment(random, 3, -30, 30);
    const deltas = uniform(random, rows * stride, -2, 2);
    const tau = uniform(random, rows * 3, 0.75, 1.25);
    const ds = 0.37;
    // Row 1: the delta cancels the quaternion: the normalisation's floor (gradient 1e12 * g), checked for finiteness.
    if (columns.rotation !== undefined)
      for (let i = 0; i < 4; i++) deltas[stride + columns.rotation + i] = -at(rotations[0] as Float32Array, 4 + i);
    const upstream = {
      means: uniform(random, rows * 3),
      rotations: uniform(random, rows * 4),
      scales: uniform(random, rows * 3),
      displacement: uniform(random, rows * 3),
    };
    const bases = {
      means: perSegment(random, 3),
      rotations: perSegment(random, 4),
      scales: perSegment(random, 3),
    };
    const gradBases = {
      means: toTensors(bases.means, 3),
      rotations: toTensors(bases.rotations, 4),
      scales: toTensors(bases.scales, 3),
    };
    const gradDeltas = nanFilled([rows, stride]);
    const gradTau = withTau ? nanFilled([rows, 3]) : null;
    deformGaussiansBackward(
      rowCounts,
      { means: toTensors(perSegment(random, 3), 3), rotations: toTensors(rotations, 4), scales: toTensors(scales, 3) },
      cpu([rows, stride], deltas),
      columns,
      withTau ? cpu([rows, 3], tau) : null,
      ds,
      {
        means: cpu([rows, 3], upstream.means),
        rotations: cpu([rows, 4], upstream.rotations),
        scales: cpu([rows, 3], upstream.scales),
        displacement: cpu([rows, 3], upstream.displacement),
      },
      gradDeltas,
      gradTau,
      gradBases,
    );
    const d64 = Float64Array.from(deltas);
    const tau64 = Float64Array.from(tau);
    const rot64 = rotations.map((r) => Float64Array.from(r));
    const scale64 = scales.map((r) => Float64Array.from(r));
    const mean64 = rowCounts.map((n) => new Float64Array(n * 3));
    const loss = () => {
      let sum = 0;
      rowsOf.forEach(({ s, local }, row) => {
        const delta = (c: number) => d64[row * stride + c] as number;
        for (let i = 0; i < 3; i++) {
          const displacement = delta(columns.xyz + i) * ds * (withTau ? (tau64[row * 3 + i] as number) : 1);
          const mean = at(mean64[s] as Float64Array, local * 3 + i) + displacement;
          sum += at(upstream.means, row * 3 + i) * mean + at(upstream.displacement, row * 3 + i) * displacement;
          const x =
            at(scale64[s] as Float64Array, local * 3 + i) +
            (columns.scale !== undefined ? delta(columns.scale + i) : 0);
          sum += at(upstream.scales, row * 3 + i) * softplus(x);
        }
        const q = [0, 1, 2, 3].map(
          (i) =>
            at(rot64[s] as Float64Array, local * 4 + i) +
            (columns.rotation !== undefined ? delta(columns.rotation + i) : 0),
        );
        const norm = Math.max(Math.hypot(...q), 1e-12);
        q.forEach((v, i) => {
          sum += at(upstream.rotations, row * 4 + i) * (v / norm);
        });
      });
      return sum;
    };
    const floorRow = (i: number, width: number) => columns.rotation !== undefined && Math.floor(i / width) === 1;
    const got = gradDeltas.read();
    const expected = differences(loss, d64, (i) => floorRow(i, stride));
    const checked = (a: ArrayLike<number>, width: number) => Array.from(a).map((v, i) => (floorRow(i, width) ? 0 : v));
    t.ok(
      gradError(checked(got, stride), expected) < TOLERANCE,
      `deltas: error ${gradError(checked(got, stride), expected)}`,
    );
    t.ok(
      got.every((v) => Number.isFinite(v)),
      'finite at the normalisation floor',
    );
    if (gradTau) t.ok(gradError(gradTau.read(), differences(loss, tau64)) < TOLERANCE, 'tau');
    const sources = { means: mean64, rotations: rot64, scales: scale64 };
    for (const key of ['means', 'rotations', 'scales'] as const) {
      const width = key === 'rotations' ? 4 : 3;
      rowCounts.forEach((_, s) => {
        // Segment 0's local row 1 is batch row 1 (the floor row).
        const skip = (i: number) => s === 0 && key === 'rotations' && floorRow(i, width);
        const base = bases[key][s] as Float32Array;
        const g = Array.from((gradBases[key][s] as Tensor<'f32'>).read()).map((v, i) =>
          skip(i) ? 0 : v - at(base, i),
        );
        const error = gradError(g, differences(loss, sources[key][s] as Float64Array, skip));
        t.ok(error < TOLERANCE, `base ${key} of segment ${s}: error ${error}`);
      });
    }
  });
}

t.test('deformGaussiansBackward rejects bad arguments with clear errors', async (t) => {
  const rotations = [Tensor.zeros('cpu', 'f32', [2, 4])];
  const scales = [Tensor.zeros('cpu', 'f32', [2, 3])];
  const bases = { means: [Tensor.zeros('cpu', 'f32', [2, 3])], rotations, scales };
  const deltas = Tensor.zeros('cpu', 'f32', [2, 11]);
  const grads = { means: Tensor.zeros('cpu', 'f32', [2, 3]), rotations: null, scales: null, displacement: null };
  const none = { means: null, rotations: null, scales: null };
  t.throws(
    () =>
      deformGaussiansBackward(
        [2],
        bases,
        deltas,
        FACE_DELTA_COLUMNS,
        null,
        0.01,
        grads,
        Tensor.zeros('cpu', 'f32', [2, 11]),
        Tensor.zeros('cpu', 'f32', [2, 3]),
        none,
      ),
    /gradTau needs tau/,
  );
  t.throws(
    () =>
      deformGaussiansBackward(
        [2],
        bases,
        deltas,
        FACE_DELTA_COLUMNS,
        null,
        0.01,
        grads,
        Tensor.zeros('cpu', 'f32', [2, 7]),
        null,
        none,
      ),
    /gradDeltas must be f32\[2,11\], got cpu f32\[2,7\]/,
  );
  t.throws(
    () =>
      deformGaussiansBackward(
        [2],
        bases,
        deltas,
        FACE_DELTA_COLUMNS,
        null,
        0.01,
        grads,
        Tensor.zeros('cpu', 'f32', [2, 11]),
        null,
        { ...none, scales: [Tensor.zeros('cpu', 'f32', [3, 3])] },
      ),
    /gradBaseScales\[0\] must be f32\[2,3\], got cpu f32\[3,3\]/,
  );
  t.throws(
    () =>
      alignerApplyBackward(
        [2],
        Tensor.zeros('cpu', 'f32', [2, 6]),
        { query: null, tau: null },
        Tensor.zeros('cpu', 'f32', [2, 3]),
        null,
      ),
    /gradRaw must be f32\[2,6\], got cpu f32\[2,3\]/,
  );
  t.throws(
    () => gatherRowsBackward([2], Tensor.zeros('cpu', 'f32', [2, 3]), []),
    /gradSources has 0 tensors for 1 segments/,
  );
});
