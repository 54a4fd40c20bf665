import t from 'tap';
import { axpy } from '../src/ops/axpy.js';
import { contrastLoss } from '../src/ops/contrast-loss.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);

// Float64 reference: weight / n * sum_i max(0, a_i . b_i) over the first three columns.
function reference(a: Float64Array, aStride: number, b: Float64Array, bStride: number, n: number, weight: number) {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < 3; j++) dot += (a[i * aStride + j] as number) * (b[i * bStride + j] as number);
    sum += Math.max(0, dot);
  }
  return (weight * sum) / n;
}

t.test('contrast loss: value and gradients match float64 finite differences', async (t) => {
  const random = rng(71);
  // Face decoder rows are 11 wide (displacement first), mouth rows 3 wide: both strides at once.
  const n = 257;
  const [aStride, bStride] = [11, 3];
  const a = uniform(random, n * aStride);
  const b = uniform(random, n * bStride);
  const weight = 0.7;
  const loss = cpu([1], new Float32Array([Number.NaN]));
  const gradA = cpu([n, aStride], new Float32Array(n * aStride).fill(0.5));
  const gradB = cpu([n, bStride], new Float32Array(n * bStride));
  contrastLoss(cpu([n, aStride], a), cpu([n, bStride], b), weight, loss, gradA, gradB);

  const a64 = Float64Array.from(a);
  const b64 = Float64Array.from(b);
  const f = () => reference(a64, aStride, b64, bStride, n, weight);
  t.ok(Math.abs((loss.read()[0] as number) - f()) < 1e-6, `loss ${loss.read()[0]} vs ${f()}`);
  // About half the pairs point apart: those must contribute nothing, value or gradient.
  let positive = 0;
  for (let i = 0; i < n; i++) {
    const dot = [0, 1, 2].reduce((s, j) => s + (a[i * aStride + j] as number) * (b[i * bStride + j] as number), 0);
    if (dot > 0) positive++;
  }
  t.ok(positive > n / 4 && positive < (3 * n) / 4, `${positive} of ${n} pairs agree in direction`);

  // gradA was 0.5 everywhere: the op adds, and leaves the columns past the displacement alone.
  const expectedA = [...a64.keys()].map((i) => 0.5 + (i % aStride < 3 ? centralDifference(f, a64, i) : 0));
  const expectedB = [...b64.keys()].map((i) => centralDifference(f, b64, i));
  t.ok(gradError(gradA.read(), expectedA) < 1e-5, `gradA error ${gradError(gradA.read(), expectedA)}`);
  t.ok(gradError(gradB.read(), expectedB) < 1e-5, `gradB error ${gradError(gradB.read(), expectedB)}`);
});

t.test('contrast loss: disagreeing or still fields cost nothing; gradients may be skipped', async (t) => {
  const n = 4;
  const a = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 0, 2, 2, 2]);
  const b = new Float32Array([-1, 0, 0, 1, 0, 0, 5, 5, 5, 1, 0, 0]);
  const loss = cpu([1], new Float32Array(1));
  contrastLoss(cpu([n, 3], a), cpu([n, 3], b), 1, loss, null, null);
  // Opposite (dot -1), orthogonal (0), one still (0); only the last pair (dot 2) counts: 2 / 4.
  t.equal(loss.read()[0], 0.5);
  const empty = cpu([0, 3], new Float32Array(0));
  contrastLoss(empty, empty, 1, loss, null, null);
  t.equal(loss.read()[0], 0, 'no Gaussians, no loss');
});

t.test('contrast loss: shapes are checked', async (t) => {
  const loss = cpu([1], new Float32Array(1));
  const three = cpu([2, 3], new Float32Array(6));
  t.throws(() => contrastLoss(cpu([2, 2], new Float32Array(4)), three, 1, loss, null, null), /at least 3 columns/);
  t.throws(() => contrastLoss(three, cpu([3, 3], new Float32Array(9)), 1, loss, null, null), /b/);
  t.throws(() => contrastLoss(three, three, 1, loss, cpu([2, 4], new Float32Array(8)), null), /gradA/);
});

t.test('axpy adds a scaled vector in place', async (t) => {
  const y = cpu([2, 2], new Float32Array([1, 2, 3, 4]));
  axpy(2, cpu([4], new Float32Array([1, -1, 0.5, 0])), y);
  t.same([...y.read()], [3, 0, 4, 4]);
  t.throws(() => axpy(1, cpu([3], new Float32Array(3)), y), /y/);
});
