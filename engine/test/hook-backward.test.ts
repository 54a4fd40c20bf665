import t from 'tap';
import { hookFeaturesBackward } from '../src/ops/hook.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);

// Float64 hook of one segment's vertical displacements (native/src/ops/hook_features.h).
function cues(y: number[], k: number): number[] {
  if (y.length === 0) return [0, 0, 0];
  const n = Math.min(k, y.length);
  const sorted = [...y].sort((a, b) => b - a);
  const max = sorted.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const min = sorted.slice(-n).reduce((a, b) => a + b, 0) / n;
  return [max, min, max - min];
}

function backward(rowCounts: number[], displacement: Float32Array, k: number, gradOut: Float32Array): Float32Array {
  const rows = rowCounts.reduce((a, b) => a + b, 0);
  const grad = cpu([rows, 3], new Float32Array(rows * 3).fill(Number.NaN));
  hookFeaturesBackward(rowCounts, cpu([rows, 3], displacement), k, cpu([rowCounts.length, 3], gradOut), grad);
  return grad.read();
}

t.test('hook backward matches float64 finite differences', async (t) => {
  for (const k of [1, 3, 10]) {
    const random = rng(50 + k);
    // Distinct values (no ties within the step): fewer rows than k, an empty segment, many rows.
    const rowCounts = [2, 0, 60, 9];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const displacement = uniform(random, rows * 3);
    const gradOut = uniform(random, rowCounts.length * 3);
    const got = backward(rowCounts, displacement, k, gradOut);
    const x = Float64Array.from(displacement);
    const loss = () => {
      let sum = 0;
      let first = 0;
      rowCounts.forEach((n, s) => {
        const y = [...Array(n).keys()].map((i) => x[(first + i) * 3 + 1] as number);
        cues(y, k).forEach((v, c) => {
          sum += (gradOut[s * 3 + c] as number) * v;
        });
        first += n;
      });
      return sum;
    };
    const expected = [...x.keys()].map((i) => centralDifference(loss, x, i));
    t.ok(gradError(got, expected) < 1e-6, `k = ${k}: error ${gradError(got, expected)}`);
  }
});

t.test('hook backward selects tied rows as the forward does: the earlier row first', async (t) => {
  // One segment, k = 2: the top values are 3 and 3 (rows 1 and 2, not row 4), the lowest 0 and 0 (rows 5 and 6).
  const y = [1, 3, 3, 2, 3, 0, 0, 0];
  const displacement = new Float32Array(y.flatMap((v) => [9, v, 9]));
  const gradOut = new Float32Array([0.5, 0.25, 2]);
  const got = backward([y.length], displacement, 2, gradOut);
  const high = (0.5 + 2) / 2;
  const low = (0.25 - 2) / 2;
  t.same(Array.from(got), [0, 0, 0, 0, high, 0, 0, high, 0, 0, 0, 0, 0, 0, 0, 0, low, 0, 0, low, 0, 0, 0, 0]);
  // Every value equal: the first k rows carry both cues.
  const flat = backward([4], new Float32Array(12).fill(1), 3, gradOut);
  t.same(
    Array.from(flat).filter((_, i) => i % 3 === 1),
    [high * (2 / 3) + low * (2 / 3), high * (2 / 3) + low * (2 / 3), high * (2 / 3) + low * (2 / 3), 0].map((v) =>
      Math.fround(v),
    ),
  );
});

t.test('hook backward rejects bad arguments with clear errors', async (t) => {
  const displacement = Tensor.zeros('cpu', 'f32', [4, 3]);
  const grad = Tensor.zeros('cpu', 'f32', [4, 3]);
  t.throws(
    () => hookFeaturesBackward([4], displacement, 2, Tensor.zeros('cpu', 'f32', [2, 3]), grad),
    /gradOut must be f32\[1,3\], got cpu f32\[2,3\]/,
  );
  t.throws(
    () => hookFeaturesBackward([4], displacement, 40, Tensor.zeros('cpu', 'f32', [1, 3]), grad),
    /topK must be 1\.\.32, got 40/,
  );
  t.throws(
    () =>
      hookFeaturesBackward(
        [4],
        displacement,
        2,
        Tensor.zeros('cpu', 'f32', [1, 3]),
        Tensor.zeros('cpu', 'f32', [4, 1]),
      ),
    /gradDisplacement must be f32\[4,3\], got cpu f32\[4,1\]/,
  );
});
