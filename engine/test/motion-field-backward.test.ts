import t, { type Test } from 'tap';
import { defaultModelConfig, type MlpShape } from '../src/model/config.js';
import {
  FaceMotionField,
  type FaceMotionShapes,
  MouthMotionField,
  type MouthMotionShapes,
} from '../src/ops/motion-field.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError, pick, sampleIndices } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

// float32 gradients through four chained networks against float64 central differences (h = 1e-6); 2e-4 of the
// largest gradient of each checked tensor leaves a wide margin over float32 accumulation.
const TOLERANCE = 2e-4;
const SAMPLES = 40;

function mlp(shape: MlpShape, w: ArrayLike<number>, x: ArrayLike<number>): number[] {
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

type Weights<K extends string> = Record<K, Float64Array[]>;
const seg =
  <K extends string>(w: Weights<K>, s: number) =>
  (k: K) =>
    w[k][s] as Float64Array;

function face64(
  S: FaceMotionShapes,
  w: (k: keyof FaceMotionShapes) => Float64Array,
  h: ArrayLike<number>,
  audio: ArrayLike<number>,
  expression: ArrayLike<number>,
): number[] {
  const E = expression.length;
  const a = mlp(S.audioAttention, w('audioAttention'), h).map((v, c) => v * (audio[c] as number));
  const code = [
    ...mlp(S.expressionEncoder, w('expressionEncoder'), Array.from(expression).slice(0, E - 1)),
    expression[E - 1] as number,
  ];
  const e = mlp(S.expressionAttention, w('expressionAttention'), h).map((v, k) => (code[k] as number) * Math.max(0, v));
  return mlp(S.decoder, w('decoder'), [...Array.from(h), ...a, ...e]);
}

function mouth64(
  S: MouthMotionShapes,
  w: (k: keyof MouthMotionShapes) => Float64Array,
  h: ArrayLike<number>,
  audio: ArrayLike<number>,
  hook: ArrayLike<number>,
): number[] {
  const a = mlp(S.audioAttention, w('audioAttention'), h).map((v, c) => v * (audio[c] as number));
  const d = mlp(S.decoder, w('decoder'), [...Array.from(h), ...a, ...Array.from(hook)]);
  const tau =
    2 / (1 + Math.exp(-(mlp(S.hookScaler, w('hookScaler'), [...Array.from(h), ...Array.from(hook)])[0] as number)));
  return d.slice(0, 3).map((v) => v * tau);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};
const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);
const nan = (shape: number[]) => cpu(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));
const sub = (a: Float64Array, index: number, width: number) => a.subarray(index * width, (index + 1) * width);

/**
 * Runs one branch's backward and checks every gradient against central differences of `rowOut`, the float64
 * forward of one row (its upstream gradient dotted in): each network's weights per segment, h per row, and the
 * per-segment inputs `conditions` (audio, then expression or hook).
 */
function checkBranch<K extends string>(
  t: Test,
  seed: number,
  rowCounts: number[],
  paramCounts: Record<K, number>,
  dims: { G: number; out: number; conditions: number[] },
  rowOut: (w: (k: K) => Float64Array, h: Float64Array, conditions: Float64Array[], s: number) => number[],
  backward: (
    h: Tensor<'f32'>,
    conditions: Tensor<'f32'>[],
    weights: Record<K, Tensor<'f32'>[]>,
    gradOut: Tensor<'f32'>,
    gradWeights: Record<K, Tensor<'f32'>[]>,
    gradH: Tensor<'f32'>,
    gradConditions: Tensor<'f32'>[],
  ) => void,
) {
  const random = rng(seed);
  const rows = rowCounts.reduce((a, b) => a + b, 0);
  const B = rowCounts.length;
  const keys = Object.keys(paramCounts) as K[];
  const h = uniform(random, rows * dims.G);
  const conditions = dims.conditions.map((width) => uniform(random, B * width, -1.5, 1.5));
  const weights = Object.fromEntries(
    keys.map((k) => [k, rowCounts.map(() => uniform(random, paramCounts[k], -0.4, 0.4))]),
  ) as Record<K, Float32Array[]>;
  const base = Object.fromEntries(keys.map((k) => [k, rowCounts.map(() => uniform(random, paramCounts[k]))])) as Record<
    K,
    Float32Array[]
  >;
  const gradOut = uniform(random, rows * dims.out);
  const gradWeights = Object.fromEntries(keys.map((k) => [k, base[k].map((b) => cpu([b.length], b))])) as Record<
    K,
    Tensor<'f32'>[]
  >;
  const gradH = nan([rows, dims.G]);
  const gradConditions = dims.conditions.map((width) => nan([B, width]));
  backward(
    cpu([rows, dims.G], h),
    conditions.map((c, i) => cpu([B, dims.conditions[i] as number], c)),
    Object.fromEntries(keys.map((k) => [k, weights[k].map((w) => cpu([w.length], w))])) as Record<K, Tensor<'f32'>[]>,
    cpu([rows, dims.out], gradOut),
    gradWeights,
    gradH,
    gradConditions,
  );

  const h64 = Float64Array.from(h);
  const c64 = conditions.map((c) => Float64Array.from(c));
  const w64 = Object.fromEntries(keys.map((k) => [k, weights[k].map((w) => Float64Array.from(w))])) as Weights<K>;
  const first = rowCounts.map((_, s) => rowCounts.slice(0, s).reduce((a, b) => a + b, 0));
  const rowLoss = (row: number, s: number) =>
    dot(
      sub(Float64Array.from(gradOut), row, dims.out),
      rowOut(
        seg(w64, s),
        sub(h64, row, dims.G),
        c64.map((c, i) => sub(c, s, dims.conditions[i] as number)),
        s,
      ),
    );
  const segmentLoss = (s: number) => () => {
    let loss = 0;
    for (let row = first[s] as number; row < (first[s] as number) + (rowCounts[s] as number); row++)
      loss += rowLoss(row, s);
    return loss;
  };
  rowCounts.forEach((count, s) => {
    for (const k of keys) {
      const at = sampleIndices(random, paramCounts[k], SAMPLES);
      const got = (gradWeights[k][s] as Tensor<'f32'>)
        .read()
        .map((g, i) => g - ((base[k][s] as Float32Array)[i] as number));
      const expected = at.map((i) => centralDifference(segmentLoss(s), w64[k][s] as Float64Array, i));
      const error = gradError(pick(got, at), expected);
      t.ok(error < TOLERANCE, `segment ${s} (${count} rows) ${k}: error ${error}`);
    }
    dims.conditions.forEach((width, i) => {
      const got = (gradConditions[i] as Tensor<'f32'>).read().subarray(s * width, (s + 1) * width);
      const expected = [...Array(width).keys()].map((c) =>
        centralDifference(segmentLoss(s), c64[i] as Float64Array, s * width + c),
      );
      const error = gradError(got, expected);
      t.ok(error < TOLERANCE, `segment ${s} condition ${i}: error ${error}`);
    });
  });
  const segmentOf = (row: number) => rowCounts.findIndex((n, s) => row < (first[s] as number) + n);
  const at = sampleIndices(random, rows * dims.G, 4 * SAMPLES);
  const expected = at.map((k) => {
    const row = Math.floor(k / dims.G);
    return centralDifference(() => rowLoss(row, segmentOf(row)), h64, k);
  });
  const gotH = gradH.read();
  t.ok(gradError(pick(gotH, at), expected) < TOLERANCE, `h: error ${gradError(pick(gotH, at), expected)}`);
  t.ok(
    gotH.every((v) => Number.isFinite(v)),
    'every h gradient is written',
  );
}

const model = defaultModelConfig();
const shape = (input: number, hidden: number[], output: number, bias: boolean): MlpShape => ({
  input,
  hidden,
  output,
  bias,
});
// An empty segment, a one-row segment and a segment over several tiles and chunks.
const rowCounts = [5, 0, 70, 1];

const faceVariants: Record<string, FaceMotionShapes> = {
  'official shapes': model.face,
  'biases, other widths (G 20, C 8, E 4)': {
    audioAttention: shape(20, [24], 8, true),
    expressionAttention: shape(20, [5], 4, true),
    expressionEncoder: shape(3, [7, 9], 3, true),
    decoder: shape(32, [40, 17, 33], 5, true),
  },
};

for (const [name, S] of Object.entries(faceVariants)) {
  t.test(`face motion field backward matches float64 finite differences: ${name}`, async (t) => {
    const field = new FaceMotionField(S);
    checkBranch(
      t,
      41,
      rowCounts,
      field.paramCounts,
      { G: field.gridDim, out: field.outputDim, conditions: [field.codeDim, field.expressionDim] },
      (w, h, [audio, expression]) => face64(S, w, h, audio as Float64Array, expression as Float64Array),
      (h, [audio, expression], weights, gradOut, gradWeights, gradH, [gradAudio, gradExpression]) =>
        field.backward(
          rowCounts,
          h,
          audio as Tensor<'f32'>,
          expression as Tensor<'f32'>,
          weights,
          gradOut,
          gradWeights,
          { h: gradH, audio: gradAudio as Tensor<'f32'>, expression: gradExpression as Tensor<'f32'> },
        ),
    );
  });
}

const mouthVariants: Record<string, MouthMotionShapes> = {
  'official shapes': model.mouth,
  'biases, other widths (G 20, C 8)': {
    audioAttention: shape(20, [], 8, true),
    decoder: shape(31, [48], 3, true),
    hookScaler: shape(23, [16, 16], 1, true),
  },
};

for (const [name, S] of Object.entries(mouthVariants)) {
  t.test(`mouth motion field backward matches float64 finite differences: ${name}`, async (t) => {
    const field = new MouthMotionField(S);
    checkBranch(
      t,
      43,
      rowCounts,
      field.paramCounts,
      { G: field.gridDim, out: 3, conditions: [field.codeDim, 3] },
      (w, h, [audio, hook]) => mouth64(S, w, h, audio as Float64Array, hook as Float64Array),
      (h, [audio, hook], weights, gradOut, gradWeights, gradH, [gradAudio, gradHook]) =>
        field.backward(rowCounts, h, audio as Tensor<'f32'>, hook as Tensor<'f32'>, weights, gradOut, gradWeights, {
          h: gradH,
          audio: gradAudio as Tensor<'f32'>,
          hook: gradHook as Tensor<'f32'>,
        }),
    );
  });
}

t.test('motion field backwards leave out the optional gradients and reject bad arguments', async (t) => {
  const random = rng(3);
  const field = new MouthMotionField(mouthVariants['biases, other widths (G 20, C 8)'] as MouthMotionShapes);
  const rows = 4;
  const weights = Object.fromEntries(
    Object.entries(field.paramCounts).map(([k, n]) => [k, [cpu([n as number], uniform(random, n as number))]]),
  ) as Record<keyof MouthMotionShapes, Tensor<'f32'>[]>;
  const grads = Object.fromEntries(
    Object.entries(field.paramCounts).map(([k, n]) => [k, [Tensor.zeros('cpu', 'f32', [n as number])]]),
  ) as Record<keyof MouthMotionShapes, Tensor<'f32'>[]>;
  const h = cpu([rows, 20], uniform(random, rows * 20));
  const audio = cpu([1, 8], uniform(random, 8));
  const hook = cpu([1, 3], uniform(random, 3));
  const gradOut = cpu([rows, 3], uniform(random, rows * 3));
  field.backward([rows], h, audio, hook, weights, gradOut, grads, { h: null, audio: null, hook: null });
  t.ok(
    grads.decoder[0]?.read().some((v) => v !== 0),
    'weight gradients without any input gradient',
  );
  t.throws(
    () =>
      field.backward([rows], h, audio, hook, weights, cpu([rows, 2], new Float32Array(rows * 2)), grads, {
        h: null,
        audio: null,
        hook: null,
      }),
    /gradOut must be f32\[4,3\], got cpu f32\[4,2\]/,
  );
  t.throws(
    () =>
      field.backward(
        [rows],
        h,
        audio,
        hook,
        weights,
        gradOut,
        { ...grads, decoder: [] },
        { h: null, audio: null, hook: null },
      ),
    /gradWeights\.decoder has 0 tensors for 1 segments/,
  );
  t.throws(
    () =>
      field.backward([rows], h, audio, hook, weights, gradOut, grads, {
        h: null,
        audio: null,
        hook: Tensor.zeros('cpu', 'f32', [2, 3]),
      }),
    /gradHook must be f32\[1,3\], got cpu f32\[2,3\]/,
  );
  const face = new FaceMotionField(faceVariants['biases, other widths (G 20, C 8, E 4)'] as FaceMotionShapes);
  const faceWeights = Object.fromEntries(
    Object.entries(face.paramCounts).map(([k, n]) => [k, [Tensor.zeros('cpu', 'f32', [n as number])]]),
  ) as Record<keyof FaceMotionShapes, Tensor<'f32'>[]>;
  t.throws(
    () =>
      face.backward(
        [rows],
        h,
        audio,
        Tensor.zeros('cpu', 'f32', [1, 4]),
        faceWeights,
        Tensor.zeros('cpu', 'f32', [rows, 5]),
        faceWeights,
        { h: null, audio: null, expression: Tensor.zeros('cpu', 'f32', [1, 3]) },
      ),
    /gradExpression must be f32\[1,4\], got cpu f32\[1,3\]/,
  );
});
