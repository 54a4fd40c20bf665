import t from 'tap';
import {
  alignerApply,
  type DeltaColumns,
  deformGaussians,
  FACE_DELTA_COLUMNS,
  gatherRows,
  MOUTH_DELTA_COLUMNS,
} from '../src/ops/deform.js';
import { Tensor } from '../src/tensor.js';
import { maxRelError, rng, uniform } from '../src/testing/random.js';

const rowCounts = [37, 0, 91, 5];
const rows = rowCounts.reduce((a, b) => a + b, 0);
const nanFilled = (shape: number[]) =>
  Tensor.from('cpu', 'f32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));
// One distinct tensor per segment (that identity's [n_s, width] rows); ops must read it at local rows.
const perSegment = (random: () => number, width: number, lo = -1, hi = 1) =>
  rowCounts.map((n) => uniform(random, n * width, lo, hi));
const toTensors = (data: Float32Array[], width: number) =>
  data.map((d, s) => Tensor.from('cpu', 'f32', [rowCounts[s] as number, width], d));
// Calls fn(segment, local row, global row) over every row of the batch.
function eachRow(fn: (s: number, local: number, row: number) => void): void {
  let row = 0;
  rowCounts.forEach((n, s) => {
    for (let i = 0; i < n; i++, row++) fn(s, i, row);
  });
}
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

t.test('gatherRows concatenates per-segment rows exactly', async (t) => {
  const random = rng(1);
  for (const width of [3, 7]) {
    const sources = perSegment(random, width);
    const out = nanFilled([rows, width]);
    gatherRows(rowCounts, toTensors(sources, width), out);
    const expected: number[] = [];
    eachRow((s, i) => {
      for (let c = 0; c < width; c++) expected.push((sources[s] as Float32Array)[i * width + c] as number);
    });
    t.same(Array.from(out.read()), expected, `width ${width}`);
  }
});

t.test('alignerApply matches the float64 reference', async (t) => {
  const random = rng(2);
  const means = perSegment(random, 3, -0.1, 0.1);
  const raw = uniform(random, rows * 6, -8, 8);
  const query = nanFilled([rows, 3]);
  const tau = nanFilled([rows, 3]);
  alignerApply(rowCounts, toTensors(means, 3), Tensor.from('cpu', 'f32', [rows, 6], raw), query, tau);
  const expectedQuery: number[] = [];
  const expectedTau: number[] = [];
  eachRow((s, i, row) => {
    for (let c = 0; c < 3; c++) {
      expectedQuery.push(((means[s] as Float32Array)[i * 3 + c] as number) + (raw[row * 6 + c] as number));
      expectedTau.push(Math.tanh((raw[row * 6 + 3 + c] as number) / 5) * 0.25 + 1);
    }
  });
  t.ok(maxRelError(query.read(), expectedQuery) < 1e-6, `query error ${maxRelError(query.read(), expectedQuery)}`);
  t.ok(maxRelError(tau.read(), expectedTau) < 1e-6, `tau error ${maxRelError(tau.read(), expectedTau)}`);
});

const layouts: [string, number, DeltaColumns, boolean][] = [
  ['face decoder layout, with aligner tau', 11, FACE_DELTA_COLUMNS, true],
  ['mouth decoder layout (d_xyz only), no tau', 7, MOUTH_DELTA_COLUMNS, false],
  ['shuffled columns', 12, { xyz: 9, rotation: 0, scale: 5 }, true],
];

for (const [name, stride, columns, withTau] of layouts) {
  t.test(`deformGaussians matches the float64 reference: ${name}`, async (t) => {
    const random = rng(3 + stride);
    const means = perSegment(random, 3, -0.1, 0.1);
    const rotations = perSegment(random, 4);
    // Scales span softplus' stable regimes: very negative (log1p(exp(x)) ~ exp(x)) to large (~ x).
    const scales = perSegment(random, 3, -40, 40);
    const deltas = uniform(random, rows * stride, -2, 2);
    const tau = uniform(random, rows * 3, 0.75, 1.25);
    // Row 0: the delta cancels the quaternion, which must normalise to zeros (torch's eps), not NaN.
    if (columns.rotation !== undefined)
      for (let c = 0; c < 4; c++) deltas[columns.rotation + c] = -((rotations[0] as Float32Array)[c] as number);
    const displacementScale = 1e-2;
    const out = {
      means: nanFilled([rows, 3]),
      rotations: nanFilled([rows, 4]),
      scales: nanFilled([rows, 3]),
      displacement: nanFilled([rows, 3]),
    };
    deformGaussians(
      rowCounts,
      { means: toTensors(means, 3), rotations: toTensors(rotations, 4), scales: toTensors(scales, 3) },
      Tensor.from('cpu', 'f32', [rows, stride], deltas),
      columns,
      withTau ? Tensor.from('cpu', 'f32', [rows, 3], tau) : null,
      displacementScale,
      out,
    );
    const expected = { means: [] as number[], rotations: [] as number[], scales: [] as number[], disp: [] as number[] };
    eachRow((s, i, row) => {
      const delta = (c: number) => deltas[row * stride + c] as number;
      for (let c = 0; c < 3; c++) {
        const d = delta(columns.xyz + c) * displacementScale * (withTau ? (tau[row * 3 + c] as number) : 1);
        expected.disp.push(d);
        expected.means.push(((means[s] as Float32Array)[i * 3 + c] as number) + d);
        const x =
          ((scales[s] as Float32Array)[i * 3 + c] as number) +
          (columns.scale === undefined ? 0 : delta(columns.scale + c));
        expected.scales.push(softplus(x));
      }
      const q = [0, 1, 2, 3].map(
        (c) =>
          ((rotations[s] as Float32Array)[i * 4 + c] as number) +
          (columns.rotation === undefined ? 0 : delta(columns.rotation + c)),
      );
      const norm = Math.max(Math.hypot(...q), 1e-12);
      expected.rotations.push(...q.map((v) => v / norm));
    });
    const check = (label: string, got: Float32Array, want: number[], tolerance: number) => {
      const error = maxRelError(got, want);
      t.ok(error < tolerance, `${label} error ${error}`);
    };
    check('means', out.means.read(), expected.means, 1e-6);
    check('displacement', out.displacement.read(), expected.disp, 1e-6);
    check('rotations', out.rotations.read(), expected.rotations, 1e-6);
    check('scales', out.scales.read(), expected.scales, 1e-6);
    if (columns.rotation !== undefined) t.same(Array.from(out.rotations.read().subarray(0, 4)), [0, 0, 0, 0]);
  });
}

t.test('deformation ops reject bad arguments with clear errors', async (t) => {
  const counts = [3, 2];
  const bases = (n: number[]) => ({
    means: n.map((k) => Tensor.zeros('cpu', 'f32', [k, 3])),
    rotations: n.map((k) => Tensor.zeros('cpu', 'f32', [k, 4])),
    scales: n.map((k) => Tensor.zeros('cpu', 'f32', [k, 3])),
  });
  const out = {
    means: Tensor.zeros('cpu', 'f32', [5, 3]),
    rotations: Tensor.zeros('cpu', 'f32', [5, 4]),
    scales: Tensor.zeros('cpu', 'f32', [5, 3]),
    displacement: Tensor.zeros('cpu', 'f32', [5, 3]),
  };
  const deltas = Tensor.zeros('cpu', 'f32', [5, 11]);
  const deform = (b = bases(counts), columns = FACE_DELTA_COLUMNS, scale = 1e-2, tau: Tensor<'f32'> | null = null) =>
    deformGaussians(counts, b, deltas, columns, tau, scale, out);
  t.doesNotThrow(() => deform());
  t.throws(() => deform(bases([3, 3])), /means\[1\] must be f32\[2,3\], got cpu f32\[3,3\]/);
  t.throws(() => deform({ ...bases(counts), scales: [] }), /scales has 0 tensors for 2 segments/);
  t.throws(() => deform(bases(counts), { xyz: 0, rotation: 8 }), /rotationColumn must be -1 \(absent\) or 0..7/);
  t.throws(() => deform(bases(counts), { xyz: 9 }), /xyzColumn must be 0..8/);
  t.throws(() => deform(bases(counts), FACE_DELTA_COLUMNS, Number.NaN), /displacementScale must be a finite number/);
  t.throws(
    () => deform(bases(counts), FACE_DELTA_COLUMNS, 1, Tensor.zeros('cpu', 'f32', [5, 6])),
    /tau must be f32\[5,3\]/,
  );
  t.throws(
    () => gatherRows(counts, [Tensor.zeros('cpu', 'f32', [3, 3]), Tensor.zeros('cpu', 'f32', [2, 4])], out.means),
    /sources\[1\] must be f32\[2,3\]/,
  );
  t.throws(
    () => alignerApply(counts, bases(counts).means, Tensor.zeros('cpu', 'f32', [5, 3]), out.means, out.scales),
    /raw must be f32\[5,6\]/,
  );
});
