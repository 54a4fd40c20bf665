import t, { type Test } from 'tap';
import type { MlpShape } from '../src/model/config.js';
import { Mlp } from '../src/ops/mlp.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError, pick, sampleIndices } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

// Analytic float32 gradients against float64 central differences: float32 sums of n terms err by ~sqrt(n) 2^-24 of
// the terms' size and the differences by ~1e-9 (h = 1e-6), so 1e-4 of the largest gradient leaves a wide margin.
const TOLERANCE = 1e-4;

// Float64 reference of the layout in native/src/ops/mlp.h.
function mlp64(shape: MlpShape, w: ArrayLike<number>, x: ArrayLike<number>): number[] {
  const widths = [shape.input, ...shape.hidden, shape.output];
  let v = Array.from(x);
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const nIn = widths[l] as number;
    const nOut = widths[l + 1] as number;
    const y: number[] = [];
    for (let j = 0; j < nOut; j++) {
      let sum = shape.bias ? (w[offset + nIn * nOut + j] as number) : 0;
      for (let i = 0; i < nIn; i++) sum += (w[offset + j * nIn + i] as number) * (v[i] as number);
      y.push(l + 2 < widths.length ? Math.max(0, sum) : sum);
    }
    offset += nIn * nOut + (shape.bias ? nOut : 0);
    v = y;
  }
  return v;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};
const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);

function check(t: Test, shape: MlpShape, rowCounts: number[], seed: number, samples: number) {
  const random = rng(seed);
  const mlp = new Mlp(shape);
  const P = mlp.paramCount;
  const rows = sum(rowCounts);
  const input = uniform(random, rows * shape.input);
  const gradOut = uniform(random, rows * shape.output);
  const weights = rowCounts.map(() => uniform(random, P, -0.5, 0.5));
  // Weight gradients accumulate onto what is there; the input gradient overwrites.
  const base = rowCounts.map(() => uniform(random, P));
  const gradWeights = base.map((b) => cpu([P], b));
  const gradInput = cpu([rows, shape.input], new Float32Array(rows * shape.input).fill(Number.NaN));
  mlp.backward(
    rowCounts,
    cpu([rows, shape.input], input),
    weights.map((w) => cpu([P], w)),
    cpu([rows, shape.output], gradOut),
    gradWeights,
    gradInput,
  );
  const x64 = Float64Array.from(input);
  const firstRow = rowCounts.map((_, s) => sum(rowCounts.slice(0, s)));
  const rowLoss = (w: ArrayLike<number>, row: number) =>
    dot(
      gradOut.subarray(row * shape.output, (row + 1) * shape.output),
      mlp64(shape, w, x64.subarray(row * shape.input, (row + 1) * shape.input)),
    );
  rowCounts.forEach((count, s) => {
    const w64 = Float64Array.from(weights[s] as Float32Array);
    const segmentLoss = () => {
      let loss = 0;
      for (let row = firstRow[s] as number; row < (firstRow[s] as number) + count; row++) loss += rowLoss(w64, row);
      return loss;
    };
    const at = sampleIndices(random, P, samples);
    const got = (gradWeights[s] as Tensor<'f32'>).read().map((g, i) => g - ((base[s] as Float32Array)[i] as number));
    const expected = at.map((i) => centralDifference(segmentLoss, w64, i));
    const error = gradError(pick(got, at), expected);
    t.ok(error < TOLERANCE, `segment ${s} (${count} rows) weights: error ${error}`);
  });
  const gotInput = gradInput.read();
  const at = sampleIndices(random, rows * shape.input, samples);
  const segmentOf = (row: number) =>
    rowCounts.findIndex((_, s) => row < (firstRow[s] as number) + (rowCounts[s] as number));
  const expected = at.map((k) => {
    const row = Math.floor(k / shape.input);
    const w = weights[segmentOf(row)] as Float32Array;
    return centralDifference(() => rowLoss(w, row), x64, k);
  });
  t.ok(gradError(pick(gotInput, at), expected) < TOLERANCE, `input: error ${gradError(pick(gotInput, at), expected)}`);
  t.ok(
    gotInput.every((v) => Number.isFinite(v)),
    'every input gradient is written',
  );
}

const shapes: Record<string, [MlpShape, number]> = {
  'small with bias, every entry': [{ input: 5, hidden: [7, 6], output: 3, bias: true }, 1000],
  'face decoder (official, no bias)': [{ input: 74, hidden: [64, 64], output: 11, bias: false }, 60],
  'no hidden layer': [{ input: 4, hidden: [], output: 2, bias: true }, 1000],
  'deep and narrow': [{ input: 9, hidden: [17, 3, 40, 1, 8], output: 5, bias: true }, 300],
  'widest layers': [{ input: 128, hidden: [128], output: 128, bias: true }, 60],
};

for (const [name, [shape, samples]] of Object.entries(shapes)) {
  t.test(`MLP backward matches float64 finite differences: ${name}`, async (t) => {
    // An empty segment, a one-row segment and more than a tile (32 rows) in one segment.
    check(t, shape, [6, 0, 45, 1], 21, samples);
  });
}

t.test('MLP backward sums over segments that share one identity', async (t) => {
  const random = rng(4);
  const shape: MlpShape = { input: 6, hidden: [8], output: 3, bias: true };
  const mlp = new Mlp(shape);
  const P = mlp.paramCount;
  const rows = 300; // several CPU chunks per segment
  const input = cpu([2 * rows, 6], uniform(random, 2 * rows * 6));
  const gradOut = cpu([2 * rows, 3], uniform(random, 2 * rows * 3));
  const w = cpu([P], uniform(random, P));
  const shared = Tensor.zeros('cpu', 'f32', [P]);
  mlp.backward([rows, rows], input, [w, w], gradOut, [shared, shared], null);
  const separate = [Tensor.zeros('cpu', 'f32', [P]), Tensor.zeros('cpu', 'f32', [P])];
  mlp.backward([rows, rows], input, [w, w], gradOut, separate, null);
  const a = separate[0]?.read() as Float32Array;
  const b = separate[1]?.read() as Float32Array;
  t.ok(
    gradError(
      shared.read(),
      a.map((v, i) => v + (b[i] as number)),
    ) < 1e-6,
    'shared buffer = sum of the two segments',
  );
});

t.test('MLP backward rejects bad arguments with clear errors', async (t) => {
  const shape: MlpShape = { input: 4, hidden: [8], output: 2, bias: true };
  const mlp = new Mlp(shape);
  const input = Tensor.zeros('cpu', 'f32', [3, 4]);
  const w = Tensor.zeros('cpu', 'f32', [mlp.paramCount]);
  const gradOut = Tensor.zeros('cpu', 'f32', [3, 2]);
  const gw = Tensor.zeros('cpu', 'f32', [mlp.paramCount]);
  t.throws(
    () => mlp.backward([3], input, [w], Tensor.zeros('cpu', 'f32', [3, 3]), [gw], null),
    /gradOut must be f32\[3,2\]/,
  );
  t.throws(() => mlp.backward([3], input, [w], gradOut, [], null), /gradWeights has 0 tensors for 1 segments/);
  t.throws(
    () => mlp.backward([3], input, [w], gradOut, [Tensor.zeros('cpu', 'f32', [5])], null),
    /gradWeights\[0\] must be a cpu f32 tensor of at least 58 values/,
  );
  t.throws(
    () => mlp.backward([3], input, [w], gradOut, [gw], Tensor.zeros('cpu', 'f32', [3, 5])),
    /gradInput must be f32\[3,4\], got cpu f32\[3,5\]/,
  );
});
