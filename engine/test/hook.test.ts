import t from 'tap';
import { hookFeatures } from '../src/ops/hook.js';
import { Tensor } from '../src/tensor.js';
import { maxRelError, rng } from '../src/testing/random.js';

// Float64 reference: sort the segment's vertical displacements and average the k extremes at each end.
function reference(ys: number[], k: number): number[] {
  if (ys.length === 0) return [0, 0, 0];
  const sorted = [...ys].sort((a, b) => b - a);
  const n = Math.min(k, sorted.length);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const max = mean(sorted.slice(0, n));
  const min = mean(sorted.slice(sorted.length - n));
  return [max, min, max - min];
}

// Segments: many rows, fewer rows than k, none, one, exactly k (= 10).
const rowCounts = [2000, 3, 0, 1, 10, 700];
const rows = rowCounts.reduce((a, b) => a + b, 0);

for (const k of [10, 1, 32]) {
  t.test(`hookFeatures matches the float64 reference (k = ${k})`, async (t) => {
    const random = rng(20 + k);
    const displacement = new Float32Array(rows * 3);
    for (let row = 0; row < rows; row++) {
      // Columns 0 and 2 carry larger values the op must ignore; quantised y values create ties.
      displacement[row * 3] = 100 * random();
      displacement[row * 3 + 1] = Math.round((random() - 0.5) * 400) * 1e-5;
      displacement[row * 3 + 2] = -100 * random();
    }
    const out = Tensor.from(
      'cpu',
      'f32',
      [rowCounts.length, 3],
      new Float32Array(rowCounts.length * 3).fill(Number.NaN),
    );
    hookFeatures(rowCounts, Tensor.from('cpu', 'f32', [rows, 3], displacement), k, out);
    const expected: number[] = [];
    let row = 0;
    for (const n of rowCounts) {
      const ys: number[] = [];
      for (let i = 0; i < n; i++, row++) ys.push(displacement[row * 3 + 1] as number);
      expected.push(...reference(ys, k));
    }
    const got = out.read();
    t.ok(maxRelError(got, expected) < 1e-8, `max error ${maxRelError(got, expected)}`);
    t.same(Array.from(got.subarray(6, 9)), [0, 0, 0], 'a segment without rows gets zeros');
    t.equal(got[11], 0, 'a single row has zero range');
  });
}

t.test('hookFeatures is deterministic', async (t) => {
  const random = rng(5);
  const displacement = Tensor.from(
    'cpu',
    'f32',
    [rows, 3],
    Float32Array.from({ length: rows * 3 }, () => random() - 0.5),
  );
  const run = () => {
    const out = Tensor.zeros('cpu', 'f32', [rowCounts.length, 3]);
    hookFeatures(rowCounts, displacement, 10, out);
    return Array.from(out.read());
  };
  t.same(run(), run());
});

t.test('hookFeatures rejects bad arguments with clear errors', async (t) => {
  const displacement = Tensor.zeros('cpu', 'f32', [5, 3]);
  const out = Tensor.zeros('cpu', 'f32', [2, 3]);
  t.doesNotThrow(() => hookFeatures([3, 2], displacement, 10, out));
  t.throws(() => hookFeatures([3, 2], displacement, 0, out), /topK must be 1..32, got 0/);
  t.throws(() => hookFeatures([3, 2], displacement, 33, out), /topK must be 1..32, got 33/);
  t.throws(() => hookFeatures([3, 3], displacement, 10, out), /displacement must be f32\[6,3\]/);
  t.throws(() => hookFeatures([5], displacement, 10, out), /out must be f32\[1,3\]/);
  t.throws(() => hookFeatures([5], Tensor.zeros('cpu', 'f32', [5, 2]), 10, out), /displacement must be f32\[5,3\]/);
});
