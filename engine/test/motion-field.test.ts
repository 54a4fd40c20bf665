import t from 'tap';
import { defaultModelConfig, type MlpShape } from '../src/model/config.js';
import {
  FaceMotionField,
  type FaceMotionShapes,
  MouthMotionField,
  type MouthMotionShapes,
} from '../src/ops/motion-field.js';
import { Tensor } from '../src/tensor.js';
import { maxRelError, rng, uniform } from '../src/testing/random.js';

// Float32 accumulation of an n-term dot product errs by about sqrt(n) * 2^-24 relative to the terms' size (~5e-7
// at the decoder's 74 inputs); 1e-5, relative to max(1, |value|), covers the three chained networks with margin.
const TOLERANCE = 1e-5;

// Plain float64 MLP of the layout in native/src/ops/mlp.h.
function mlp(shape: MlpShape, w: Float32Array, x: number[]): number[] {
  const widths = [shape.input, ...shape.hidden, shape.output];
  let v = x;
  let offset = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const nIn = widths[l] as number;
    const nOut = widths[l + 1] as number;
    const y = [...Array(nOut).keys()].map((j) => {
      let sum = shape.bias ? (w[offset + nIn * nOut + j] as number) : 0;
      for (let i = 0; i < nIn; i++) sum += (w[offset + j * nIn + i] as number) * (v[i] as number);
      return l + 2 < widths.length ? Math.max(0, sum) : sum;
    });
    offset += nIn * nOut + (shape.bias ? nOut : 0);
    v = y;
  }
  return v;
}

const slice = (a: Float32Array, index: number, width: number) =>
  Array.from(a.subarray(index * width, (index + 1) * width));
const rowsOf = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
const segmentOfRows = (counts: number[]) => counts.flatMap((count, s) => Array<number>(count).fill(s));

type FaceWeights = Record<keyof FaceMotionShapes, Float32Array[]>;
type MouthWeights = Record<keyof MouthMotionShapes, Float32Array[]>;

function faceReference(
  S: FaceMotionShapes,
  w: FaceWeights,
  h: number[],
  audio: number[],
  expression: number[],
  s: number,
): number[] {
  const E = expression.length;
  const at = (k: keyof FaceMotionShapes) => w[k][s] as Float32Array;
  const a = mlp(S.audioAttention, at('audioAttention'), h).map((v, c) => v * (audio[c] as number));
  const code = [
    ...mlp(S.expressionEncoder, at('expressionEncoder'), expression.slice(0, E - 1)),
    expression[E - 1] as number,
  ];
  const e = mlp(S.expressionAttention, at('expressionAttention'), h).map(
    (v, k) => (code[k] as number) * Math.max(0, v),
  );
  return mlp(S.decoder, at('decoder'), [...h, ...a, ...e]);
}

function mouthReference(
  S: MouthMotionShapes,
  w: MouthWeights,
  h: number[],
  audio: number[],
  hook: number[],
  s: number,
) {
  const at = (k: keyof MouthMotionShapes) => w[k][s] as Float32Array;
  const a = mlp(S.audioAttention, at('audioAttention'), h).map((v, c) => v * (audio[c] as number));
  const d = mlp(S.decoder, at('decoder'), [...h, ...a, ...hook]);
  const tau = 2 / (1 + Math.exp(-(mlp(S.hookScaler, at('hookScaler'), [...h, ...hook])[0] as number)));
  return d.slice(0, 3).map((v) => v * tau);
}

const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);
const nanOut = (rows: number, width: number) => cpu([rows, width], new Float32Array(rows * width).fill(Number.NaN));

function runFace(S: FaceMotionShapes, rowCounts: number[], seed: number) {
  const random = rng(seed);
  const field = new FaceMotionField(S);
  const { gridDim: G, codeDim: C, expressionDim: E } = field;
  const rows = rowsOf(rowCounts);
  const B = rowCounts.length;
  const h = uniform(random, rows * G);
  const audio = uniform(random, B * C);
  const expression = uniform(random, B * E);
  const w = Object.fromEntries(
    Object.entries(field.paramCounts).map(([k, n]) => [k, rowCounts.map(() => uniform(random, n, -0.3, 0.3))]),
  ) as FaceWeights;
  const out = nanOut(rows, field.outputDim);
  const tensors = (list: Float32Array[]) => list.map((x) => cpu([x.length], x));
  field.forward(
    rowCounts,
    cpu([rows, G], h),
    cpu([B, C], audio),
    cpu([B, E], expression),
    {
      audioAttention: tensors(w.audioAttention),
      expressionAttention: tensors(w.expressionAttention),
      expressionEncoder: tensors(w.expressionEncoder),
      decoder: tensors(w.decoder),
    },
    out,
  );
  const expected = segmentOfRows(rowCounts).flatMap((s, row) =>
    faceReference(S, w, slice(h, row, G), slice(audio, s, C), slice(expression, s, E), s),
  );
  return { got: out.read(), expected, field, w, h, audio, expression };
}

function runMouth(S: MouthMotionShapes, rowCounts: number[], seed: number) {
  const random = rng(seed);
  const field = new MouthMotionField(S);
  const { gridDim: G, codeDim: C } = field;
  const rows = rowsOf(rowCounts);
  const B = rowCounts.length;
  const h = uniform(random, rows * G);
  const audio = uniform(random, B * C);
  const hook = uniform(random, B * 3, -2, 2);
  const w = Object.fromEntries(
    Object.entries(field.paramCounts).map(([k, n]) => [k, rowCounts.map(() => uniform(random, n, -0.3, 0.3))]),
  ) as MouthWeights;
  const out = nanOut(rows, 3);
  const tensors = (list: Float32Array[]) => list.map((x) => cpu([x.length], x));
  field.forward(
    rowCounts,
    cpu([rows, G], h),
    cpu([B, C], audio),
    cpu([B, 3], hook),
    {
      audioAttention: tensors(w.audioAttention),
      decoder: tensors(w.decoder),
      hookScaler: tensors(w.hookScaler),
    },
    out,
  );
  const expected = segmentOfRows(rowCounts).flatMap((s, row) =>
    mouthReference(S, w, slice(h, row, G), slice(audio, s, C), slice(hook, s, 3), s),
  );
  return { got: out.read(), expected };
}

const model = defaultModelConfig();
const shape = (input: number, hidden: number[], output: number, bias: boolean): MlpShape => ({
  input,
  hidden,
  output,
  bias,
});
const faceVariants: Record<string, FaceMotionShapes> = {
  'official shapes': model.face,
  'biases, other widths (G 20, C 8, E 4)': {
    audioAttention: shape(20, [24], 8, true),
    expressionAttention: shape(20, [5], 4, true),
    expressionEncoder: shape(3, [7, 9], 3, true),
    decoder: shape(32, [40, 17, 33], 5, true),
  },
};
const mouthVariants: Record<string, MouthMotionShapes> = {
  'official shapes': model.mouth,
  'biases, other widths (G 20, C 8)': {
    audioAttention: shape(20, [], 8, true),
    decoder: shape(31, [48], 3, true),
    hookScaler: shape(23, [16, 16], 1, true),
  },
};

for (const [name, S] of Object.entries(faceVariants)) {
  t.test(`face motion field matches the float64 reference: ${name}`, async (t) => {
    const { got, expected, field } = runFace(S, [29, 0, 64, 7], 31);
    t.equal(field.outputDim, S.decoder.output);
    const error = maxRelError(got, expected);
    t.ok(error < TOLERANCE, `max error ${error}`);
  });
}

for (const [name, S] of Object.entries(mouthVariants)) {
  t.test(`mouth motion field matches the float64 reference: ${name}`, async (t) => {
    const { got, expected } = runMouth(S, [29, 0, 64, 7], 37);
    const error = maxRelError(got, expected);
    t.ok(error < TOLERANCE, `max error ${error}`);
  });
}

t.test('face motion field uses each segment its own weights and conditioning', async (t) => {
  const { got, w, h, audio, expression, field } = runFace(model.face, [3, 3], 41);
  const { gridDim: G, codeDim: C, expressionDim: E } = field;
  // Row 0 (segment 0) evaluated with segment 1's weights and conditioning must not match what the op returned.
  const swapped = faceReference(model.face, w, slice(h, 0, G), slice(audio, 1, C), slice(expression, 1, E), 1);
  t.ok(maxRelError(got.subarray(0, field.outputDim), swapped) > 1e-3);
});

t.test('motion fields: zero rows and one row', async (t) => {
  t.equal(runFace(model.face, [0, 0], 43).got.length, 0);
  t.equal(runMouth(model.mouth, [0], 45).got.length, 0);
  const face = runFace(model.face, [1], 47);
  t.ok(maxRelError(face.got, face.expected) < TOLERANCE);
  const mouth = runMouth(model.mouth, [0, 1], 49);
  t.ok(maxRelError(mouth.got, mouth.expected) < TOLERANCE);
});

t.test('motion fields reject bad arguments with clear errors', async (t) => {
  t.throws(
    () => new FaceMotionField({ ...model.face, decoder: shape(70, [64, 64], 11, false) }),
    /decoder\.input must be 74 \(G \+ codeDim \+ E = 36 \+ 32 \+ 6\), got 70/,
  );
  t.throws(
    () => new FaceMotionField({ ...model.face, expressionEncoder: shape(6, [16], 5, false) }),
    /expressionEncoder\.input must be 5 \(E - 1 with E = expressionAttention\.output\), got 6/,
  );
  t.throws(
    () => new FaceMotionField({ ...model.face, expressionAttention: shape(30, [16], 6, false) }),
    /expressionAttention\.input must be 36/,
  );
  t.throws(
    () => new MouthMotionField({ ...model.mouth, hookScaler: shape(39, [32], 2, false) }),
    /hookScaler\.output must be 1 \(one gate logit\), got 2/,
  );
  t.throws(
    () => new MouthMotionField({ ...model.mouth, decoder: shape(71, [32], 2, false) }),
    /decoder\.output must be >= 3/,
  );
  t.throws(
    () => new MouthMotionField({ ...model.mouth, audioAttention: shape(36, [32], 200, false) }),
    /audioAttention\.output must be 1\.\.128, got 200/,
  );
  const field = new MouthMotionField(model.mouth);
  const weights = Object.fromEntries(
    Object.entries(field.paramCounts).map(([k, n]) => [k, [Tensor.zeros('cpu', 'f32', [n])]]),
  ) as unknown as Parameters<MouthMotionField['forward']>[4];
  const h = Tensor.zeros('cpu', 'f32', [4, 36]);
  const audio = Tensor.zeros('cpu', 'f32', [1, 32]);
  const hook = Tensor.zeros('cpu', 'f32', [1, 3]);
  const out = Tensor.zeros('cpu', 'f32', [4, 3]);
  t.throws(
    () => field.forward([4], h, Tensor.zeros('cpu', 'f32', [2, 32]), hook, weights, out),
    /audio must be f32\[1,32\]/,
  );
  t.throws(
    () => field.forward([4], h, audio, Tensor.zeros('cpu', 'f32', [1, 2]), weights, out),
    /hook must be f32\[1,3\]/,
  );
  t.throws(
    () => field.forward([4], h, audio, hook, { ...weights, decoder: [] }, out),
    /weights\.decoder has 0 tensors for 1 segments/,
  );
  t.throws(
    () => field.forward([4], h, audio, hook, { ...weights, hookScaler: [Tensor.zeros('cpu', 'f32', [5])] }, out),
    /weights\.hookScaler\[0\] must be a cpu f32 tensor of at least 1280 values/,
  );
  t.throws(
    () => field.forward([4], h, audio, hook, weights, Tensor.zeros('cpu', 'f32', [4, 7])),
    /out must be f32\[4,3\]/,
  );
});
