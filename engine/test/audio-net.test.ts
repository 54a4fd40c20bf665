import t from 'tap';
import { AudioAttNet, AudioNet } from '../src/ops/audio-net.js';
import { Tensor } from '../src/tensor.js';
import { audioAttNetReference, audioNetReference, steps } from '../src/testing/audio-net-reference.js';
import { maxRelError, rng, uniform } from '../src/testing/random.js';

// Float32 sums of n terms err by about sqrt(n) * 2^-24 relative to the terms (n <= 3 * 256 here: ~2e-6);
// 1e-5, relative to max(1, |value|), leaves a margin over the chain of six layers.
const TOLERANCE = 1e-5;

for (const [featureDim, codeDim] of [
  [80, 32],
  [29, 17],
  [256, 64],
] as const) {
  t.test(`AudioNet matches the float64 reference: featureDim ${featureDim}, codeDim ${codeDim}`, async (t) => {
    const random = rng(21);
    const net = new AudioNet({ featureDim, window: 16, codeDim });
    const convs = 32 * featureDim * 3 + 32 + 32 * 32 * 3 + 32 + 64 * 32 * 3 + 64 + 64 * 64 * 3 + 64;
    t.equal(net.paramCount, convs + 64 * 64 + 64 + codeDim * 64 + codeDim, 'documented layout size');
    const rowCounts = [3, 0, 2, 4];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const windows = uniform(random, rows * 16 * featureDim);
    const weights = rowCounts.map(() => uniform(random, net.paramCount, -0.2, 0.2));
    const out = Tensor.from('cpu', 'f32', [rows, codeDim], new Float32Array(rows * codeDim).fill(Number.NaN));
    net.forward(
      rowCounts,
      Tensor.from('cpu', 'f32', [rows, 16, featureDim], windows),
      weights.map((w) => Tensor.from('cpu', 'f32', [net.paramCount], w)),
      out,
    );
    const expected: number[] = [];
    let row = 0;
    rowCounts.forEach((count, s) => {
      for (let i = 0; i < count; i++, row++)
        expected.push(...audioNetReference(weights[s] as Float32Array, steps(windows, row, 16, featureDim), codeDim));
    });
    const error = maxRelError(out.read(), expected);
    t.ok(error < TOLERANCE, `max error ${error}`);
  });
}

for (const [before, after] of [
  [4, 3],
  [4, 0],
  [0, 0],
] as const) {
  t.test(`AudioAttNet matches the float64 reference: ${before} frames before, ${after} after`, async (t) => {
    const random = rng(23);
    const codeDim = 32;
    const net = new AudioAttNet({ attentionBefore: before, attentionAfter: after, codeDim });
    const F = before + 1 + after;
    t.equal(net.frames, F);
    t.equal(
      net.paramCount,
      16 * codeDim * 3 + 16 + 8 * 16 * 3 + 8 + 4 * 8 * 3 + 4 + 2 * 4 * 3 + 2 + 2 * 3 + 1 + F * F + F,
      'documented layout size',
    );
    // One row per segment is the usual case; a segment with two rows and an empty one check the segmenting.
    const rowCounts = [1, 1, 2, 0, 1];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const codes = uniform(random, rows * F * codeDim);
    const weights = rowCounts.map(() => uniform(random, net.paramCount, -0.5, 0.5));
    const out = Tensor.from('cpu', 'f32', [rows, codeDim], new Float32Array(rows * codeDim).fill(Number.NaN));
    net.forward(
      rowCounts,
      Tensor.from('cpu', 'f32', [rows, F, codeDim], codes),
      weights.map((w) => Tensor.from('cpu', 'f32', [net.paramCount], w)),
      out,
    );
    const expected: number[] = [];
    let row = 0;
    rowCounts.forEach((count, s) => {
      for (let i = 0; i < count; i++, row++)
        expected.push(...audioAttNetReference(weights[s] as Float32Array, steps(codes, row, F, codeDim)));
    });
    const got = out.read();
    const error = maxRelError(got, expected);
    t.ok(error < TOLERANCE, `max error ${error}`);
    // Rows 0 and 1 differ in weights and inputs; feeding row 0's input under row 1's weights must differ too.
    if (F > 1) {
      const swapped = audioAttNetReference(weights[1] as Float32Array, steps(codes, 0, F, codeDim));
      t.ok(maxRelError(got.subarray(0, codeDim), swapped) > 1e-4, 'segment 0 does not use segment 1 weights');
    }
  });
}

t.test('audio nets: zero rows and one row', async (t) => {
  const random = rng(25);
  const net = new AudioNet({ featureDim: 8, window: 16, codeDim: 4 });
  const w = uniform(random, net.paramCount, -0.3, 0.3);
  const empty = Tensor.zeros('cpu', 'f32', [0, 4]);
  net.forward([0], Tensor.zeros('cpu', 'f32', [0, 16, 8]), [Tensor.from('cpu', 'f32', [net.paramCount], w)], empty);
  t.equal(empty.read().length, 0);
  const window = uniform(random, 16 * 8);
  const one = Tensor.zeros('cpu', 'f32', [1, 4]);
  net.forward(
    [1],
    Tensor.from('cpu', 'f32', [1, 16, 8], window),
    [Tensor.from('cpu', 'f32', [net.paramCount], w)],
    one,
  );
  t.ok(maxRelError(one.read(), audioNetReference(w, steps(window, 0, 16, 8), 4)) < TOLERANCE);
});

t.test('audio nets reject bad arguments with clear errors', async (t) => {
  t.throws(() => new AudioNet({ featureDim: 80, window: 8, codeDim: 32 }), /window must be 16 feature steps.*got 8/);
  t.throws(() => new AudioNet({ featureDim: 0, window: 16, codeDim: 32 }), /featureDim must be 1\.\.4096, got 0/);
  t.throws(() => new AudioNet({ featureDim: 80, window: 16, codeDim: 129 }), /codeDim must be 1\.\.128, got 129/);
  t.throws(
    () => new AudioAttNet({ attentionBefore: 30, attentionAfter: 5, codeDim: 32 }),
    /attention frames must be 1\.\.32, got 36/,
  );
  const net = new AudioNet({ featureDim: 80, window: 16, codeDim: 32 });
  const w = Tensor.zeros('cpu', 'f32', [net.paramCount]);
  const codes = Tensor.zeros('cpu', 'f32', [2, 32]);
  t.throws(
    () => net.forward([2], Tensor.zeros('cpu', 'f32', [2, 16, 29]), [w], codes),
    /windows must be f32\[2,16,80\], got cpu f32\[2,16,29\]/,
  );
  t.throws(
    () => net.forward([2], Tensor.zeros('cpu', 'f32', [2, 16, 80]), [w, w], codes),
    /weights has 2 tensors for 1/,
  );
  const att = new AudioAttNet({ attentionBefore: 4, attentionAfter: 3, codeDim: 32 });
  const attOut = Tensor.zeros('cpu', 'f32', [1, 32]);
  const attWeights = [Tensor.zeros('cpu', 'f32', [att.paramCount])];
  t.throws(
    () => att.forward([1], Tensor.zeros('cpu', 'f32', [1, 5, 32]), attWeights, attOut),
    /codes must be f32\[1,8,32\], got cpu f32\[1,5,32\]/,
  );
  t.throws(
    () => att.forward([1], Tensor.zeros('cpu', 'f32', [1, 8, 32]), [Tensor.zeros('cpu', 'f32', [3])], attOut),
    new RegExp(`weights\\[0\\] must be a cpu f32 tensor of at least ${att.paramCount} values`),
  );
});
