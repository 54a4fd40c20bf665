import t from 'tap';
import { AudioAttNet, AudioNet } from '../src/ops/audio-net.js';
import { Tensor } from '../src/tensor.js';
import { audioAttNetReference, audioNetReference, steps } from '../src/testing/audio-net-reference.js';
import { centralDifference, gradError, pick, sampleIndices } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

// Analytic float32 gradients against float64 central differences of the float64 references (see mlp-backward).
const TOLERANCE = 1e-4;

const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

t.test('AudioNet backward matches float64 finite differences', async (t) => {
  for (const [featureDim, codeDim] of [
    [80, 32],
    [7, 5],
  ] as const) {
    const random = rng(31 + featureDim);
    const net = new AudioNet({ featureDim, window: 16, codeDim });
    const P = net.paramCount;
    const rowCounts = [2, 0, 11]; // an empty segment and more than one CPU chunk (8 rows)
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const windows = uniform(random, rows * 16 * featureDim);
    const weights = rowCounts.map(() => uniform(random, P, -0.2, 0.2));
    const gradCodes = uniform(random, rows * codeDim);
    const base = rowCounts.map(() => uniform(random, P)); // weight gradients add onto what is there
    const gradWeights = base.map((b) => cpu([P], b.slice()));
    const gradWindows = cpu([rows, 16, featureDim], new Float32Array(rows * 16 * featureDim).fill(Number.NaN));
    net.backward(
      rowCounts,
      cpu([rows, 16, featureDim], windows),
      weights.map((w) => cpu([P], w)),
      cpu([rows, codeDim], gradCodes),
      gradWeights,
      gradWindows,
    );
    const x64 = Float64Array.from(windows);
    const rowLoss = (w: Float64Array | Float32Array, row: number) =>
      dot(
        gradCodes.subarray(row * codeDim, (row + 1) * codeDim),
        audioNetReference(w, steps(x64, row, 16, featureDim), codeDim),
      );
    let first = 0;
    rowCounts.forEach((count, s) => {
      const w64 = Float64Array.from(weights[s] as Float32Array);
      const rowsOf = [...Array(count).keys()].map((i) => first + i);
      const loss = () => rowsOf.reduce((acc, row) => acc + rowLoss(w64, row), 0);
      const got = (gradWeights[s] as Tensor<'f32'>).read().map((g, i) => g - ((base[s] as Float32Array)[i] as number));
      const at = sampleIndices(random, P, 80);
      // Biases and the last layers are few: check them all, they are where a layout slip shows.
      for (let i = P - 64 * 64 - 64 - codeDim * 65; i < P; i += 97) at.push(i);
      const expected = at.map((i) => centralDifference(loss, w64, i));
      const error = gradError(pick(got, at), expected);
      t.ok(error < TOLERANCE, `featureDim ${featureDim}: segment ${s} (${count} rows) weights: error ${error}`);
      if (count === 0)
        t.ok(
          got.every((v) => Math.abs(v) < 1e-7),
          'an empty segment adds nothing',
        );
      first += count;
    });
    const gotWindows = gradWindows.read();
    const at = sampleIndices(random, rows * 16 * featureDim, 60);
    const segmentOfRow = (row: number) => (row < 2 ? 0 : 2);
    const expected = at.map((k) => {
      const row = Math.floor(k / (16 * featureDim));
      return centralDifference(() => rowLoss(weights[segmentOfRow(row)] as Float32Array, row), x64, k);
    });
    const error = gradError(pick(gotWindows, at), expected);
    t.ok(error < TOLERANCE, `featureDim ${featureDim}: windows: error ${error}`);
    t.ok(
      gotWindows.every((v) => Number.isFinite(v)),
      'every window gradient is written',
    );
  }
});

t.test('AudioAttNet backward matches float64 finite differences', async (t) => {
  for (const [before, after] of [
    [4, 0],
    [4, 3],
    [0, 0],
  ] as const) {
    const random = rng(41 + before + after);
    const codeDim = 32;
    const net = new AudioAttNet({ attentionBefore: before, attentionAfter: after, codeDim });
    const F = net.frames;
    const P = net.paramCount;
    const rowCounts = [1, 3, 0, 10];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const codes = uniform(random, rows * F * codeDim);
    const weights = rowCounts.map(() => uniform(random, P, -0.5, 0.5));
    const gradOut = uniform(random, rows * codeDim);
    const gradWeights = rowCounts.map(() => Tensor.zeros('cpu', 'f32', [P]));
    const gradCodes = cpu([rows, F, codeDim], new Float32Array(rows * F * codeDim).fill(Number.NaN));
    net.backward(
      rowCounts,
      cpu([rows, F, codeDim], codes),
      weights.map((w) => cpu([P], w)),
      cpu([rows, codeDim], gradOut),
      gradWeights,
      gradCodes,
    );
    const x64 = Float64Array.from(codes);
    const rowLoss = (w: Float64Array | Float32Array, row: number) =>
      dot(gradOut.subarray(row * codeDim, (row + 1) * codeDim), audioAttNetReference(w, steps(x64, row, F, codeDim)));
    const segmentOf: number[] = rowCounts.flatMap((count, s) => Array(count).fill(s));
    let first = 0;
    rowCounts.forEach((count, s) => {
      const w64 = Float64Array.from(weights[s] as Float32Array);
      const loss = () => {
        let acc = 0;
        for (let row = first; row < first + count; row++) acc += rowLoss(w64, row);
        return acc;
      };
      const at = sampleIndices(random, P, 150);
      const expected = at.map((i) => centralDifference(loss, w64, i));
      const error = gradError(pick((gradWeights[s] as Tensor<'f32'>).read(), at), expected);
      t.ok(error < TOLERANCE, `frames ${F}: segment ${s} (${count} rows) weights: error ${error}`);
      first += count;
    });
    const got = gradCodes.read();
    const at = sampleIndices(random, rows * F * codeDim, 120);
    const expected = at.map((k) => {
      const row = Math.floor(k / (F * codeDim));
      return centralDifference(() => rowLoss(weights[segmentOf[row] as number] as Float32Array, row), x64, k);
    });
    const error = gradError(pick(got, at), expected);
    t.ok(error < TOLERANCE, `frames ${F}: codes: error ${error}`);
  }
});

t.test('audio net backward: shared gradient buffers sum, null input gradients, bad arguments', async (t) => {
  const random = rng(5);
  const net = new AudioNet({ featureDim: 8, window: 16, codeDim: 4 });
  const P = net.paramCount;
  const windows = cpu([20, 16, 8], uniform(random, 20 * 16 * 8));
  const w = cpu([P], uniform(random, P, -0.3, 0.3));
  const gradCodes = cpu([20, 4], uniform(random, 80));
  const shared = Tensor.zeros('cpu', 'f32', [P]);
  net.backward([10, 10], windows, [w, w], gradCodes, [shared, shared], null);
  const separate = [Tensor.zeros('cpu', 'f32', [P]), Tensor.zeros('cpu', 'f32', [P])];
  net.backward([10, 10], windows, [w, w], gradCodes, separate, null);
  const a = (separate[0] as Tensor<'f32'>).read();
  const b = (separate[1] as Tensor<'f32'>).read();
  t.ok(
    gradError(
      shared.read(),
      a.map((v, i) => v + (b[i] as number)),
    ) < 1e-6,
    'a buffer shared by two segments holds their sum',
  );
  t.throws(
    () => net.backward([20], windows, [w], cpu([20, 5], new Float32Array(100)), [shared], null),
    /gradCodes must be f32\[20,4\]/,
  );
  t.throws(
    () => net.backward([20], windows, [w], gradCodes, [Tensor.zeros('cpu', 'f32', [3])], null),
    /gradWeights\[0\] must be a cpu f32 tensor of at least/,
  );
  const att = new AudioAttNet({ attentionBefore: 4, attentionAfter: 0, codeDim: 4 });
  const aw = Tensor.zeros('cpu', 'f32', [att.paramCount]);
  t.throws(
    () =>
      att.backward(
        [2],
        Tensor.zeros('cpu', 'f32', [2, 5, 4]),
        [aw],
        Tensor.zeros('cpu', 'f32', [2, 4]),
        [aw],
        Tensor.zeros('cpu', 'f32', [2, 4, 4]),
      ),
    /gradCodes must be f32\[2,5,4\]/,
  );
});
