import t from 'tap';
import type { MlpShape } from '../src/model/config.js';
import { mlpParamCount } from '../src/model/config.js';
import { Mlp } from '../src/ops/mlp.js';
import { Tensor } from '../src/tensor.js';
import { maxRelError, rng, uniform } from '../src/testing/random.js';

// Float32 accumulation of an n-term dot product errs by about sqrt(n) * 2^-24 relative to the terms' size
// (~1e-6 at n = 128, the widest layer); 1e-5, relative to max(1, |value|), leaves a 10x margin over three layers.
const TOLERANCE = 1e-5;

// Straightforward float64 reference of the layout documented in native/src/ops/mlp.h.
function reference(shape: MlpShape, w: Float32Array, x: ArrayLike<number>): number[] {
  const widths = [shape.input, ...shape.hidden, shape.output];
  let v = Array.from(x);
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const nIn = widths[l] as number;
    const nOut = widths[l + 1] as number;
    const y: number[] = [];
    for (let j = 0; j < nOut; j++) {
      let sum = 0;
      for (let i = 0; i < nIn; i++) sum += (w[offset + j * nIn + i] as number) * (v[i] as number);
      if (shape.bias) sum += w[offset + nIn * nOut + j] as number;
      y.push(l + 2 < widths.length ? Math.max(0, sum) : sum);
    }
    offset += nIn * nOut + (shape.bias ? nOut : 0);
    v = y;
  }
  return v;
}

function run(shape: MlpShape, rowCounts: number[], input: Float32Array, weights: Float32Array[]): Float32Array {
  const mlp = new Mlp(shape);
  const rows = rowCounts.reduce((a, b) => a + b, 0);
  const out = Tensor.from('cpu', 'f32', [rows, shape.output], new Float32Array(rows * shape.output).fill(Number.NaN));
  mlp.forward(
    rowCounts,
    Tensor.from('cpu', 'f32', [rows, shape.input], input),
    weights.map((w) => Tensor.from('cpu', 'f32', [mlp.paramCount], w)),
    out,
  );
  return out.read();
}

function expected(shape: MlpShape, rowCounts: number[], input: Float32Array, weights: Float32Array[]): number[] {
  const out: number[] = [];
  let row = 0;
  rowCounts.forEach((count, s) => {
    for (let i = 0; i < count; i++, row++)
      out.push(
        ...reference(shape, weights[s] as Float32Array, input.subarray(row * shape.input, (row + 1) * shape.input)),
      );
  });
  return out;
}

const shapes: Record<string, MlpShape> = {
  'face decoder (official, no bias)': { input: 74, hidden: [64, 64], output: 11, bias: false },
  'face decoder with bias': { input: 74, hidden: [64, 64], output: 11, bias: true },
  'odd widths with bias': { input: 5, hidden: [7, 33], output: 1, bias: true },
  'widest layers': { input: 128, hidden: [128], output: 128, bias: true },
  'no hidden layer': { input: 3, hidden: [], output: 2, bias: false },
  'deep and narrow': { input: 9, hidden: [17, 3, 40, 16, 1, 8, 12], output: 19, bias: true },
};

for (const [name, shape] of Object.entries(shapes)) {
  t.test(`MLP matches the float64 reference: ${name}`, async (t) => {
    const random = rng(3);
    const mlp = new Mlp(shape);
    t.equal(mlp.paramCount, mlpParamCount(shape), 'native and TS parameter counts agree');
    const rowCounts = [37, 0, 91, 5];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const input = uniform(random, rows * shape.input);
    const weights = rowCounts.map(() => uniform(random, mlp.paramCount, -0.3, 0.3));
    const got = run(shape, rowCounts, input, weights);
    const error = maxRelError(got, expected(shape, rowCounts, input, weights));
    t.ok(error < TOLERANCE, `max error ${error}`);
  });
}

t.test('MLP uses each segment its own weights', async (t) => {
  const random = rng(5);
  const shape = shapes['face decoder with bias'] as MlpShape;
  const mlp = new Mlp(shape);
  // The same row in two segments with different weights gives different outputs, each matching its weights.
  const row = uniform(random, shape.input);
  const input = new Float32Array([...row, ...row]);
  const weights = [uniform(random, mlp.paramCount, -0.3, 0.3), uniform(random, mlp.paramCount, -0.3, 0.3)];
  const got = run(shape, [1, 1], input, weights);
  const first = got.subarray(0, shape.output);
  const second = got.subarray(shape.output);
  t.ok(maxRelError(first, second) > 1e-2, 'outputs differ between segments');
  t.ok(maxRelError(first, reference(shape, weights[0] as Float32Array, row)) < TOLERANCE);
  t.ok(maxRelError(second, reference(shape, weights[1] as Float32Array, row)) < TOLERANCE);
});

t.test('MLP edge cases: zero rows, one row', async (t) => {
  const random = rng(9);
  const shape = shapes['odd widths with bias'] as MlpShape;
  const mlp = new Mlp(shape);
  const w = uniform(random, mlp.paramCount);
  t.equal(run(shape, [0, 0], new Float32Array(0), [w, w]).length, 0);
  const one = uniform(random, shape.input);
  t.ok(maxRelError(run(shape, [1], one, [w]), reference(shape, w, one)) < TOLERANCE);
});

t.test('MLP rejects bad arguments with clear errors', async (t) => {
  const shape: MlpShape = { input: 4, hidden: [8], output: 2, bias: true };
  const mlp = new Mlp(shape);
  const input = Tensor.zeros('cpu', 'f32', [3, 4]);
  const w = Tensor.zeros('cpu', 'f32', [mlp.paramCount]);
  const out = Tensor.zeros('cpu', 'f32', [3, 2]);
  t.throws(() => mlp.forward([4], input, [w], out), /input must be f32\[4,4\], got cpu f32\[3,4\]/);
  t.throws(() => mlp.forward([3], input, [w], Tensor.zeros('cpu', 'f32', [3, 3])), /out must be f32\[3,2\]/);
  t.throws(() => mlp.forward([1, 2], input, [w], out), /weights has 1 tensors for 2 segments/);
  t.throws(() => mlp.forward([3], input, [Tensor.zeros('cpu', 'f32', [mlp.paramCount - 1])], out), /at least 58/);
  const intOut = Tensor.zeros('cpu', 'i32', [3, 2]) as unknown as Tensor<'f32'>;
  t.throws(() => mlp.forward([3], input, [w], intOut), /out must be f32\[3,2\], got cpu i32\[3,2\]/);
  t.throws(() => new Mlp({ ...shape, hidden: [129] }), /mlp\.hidden\[0\] must be 1\.\.128, got 129/);
  t.throws(() => new Mlp({ ...shape, input: 0 }), /mlp\.input must be 1\.\.128, got 0/);
  t.throws(() => new Mlp({ ...shape, output: 2.5 }), /mlp\.output must be a whole number/);
  t.throws(() => new Mlp({ ...shape, hidden: [8, 8, 8, 8, 8, 8, 8, 8] }), /0\.\.7 hidden layers, got 8/);
  t.throws(() => new Mlp({ ...shape, bias: 1 as unknown as boolean }), /mlp\.bias must be true or false/);
  t.throws(
    () => new Mlp({ input: 128, hidden: [128, 128], output: 128, bias: true }),
    /too large: its padded weights take 49536 floats, at most 40960/,
  );
});
