import t from 'tap';
import { compositeBackward } from '../src/ops/composite.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

const B = 2;
const H = 9;
const W = 11;
const N = B * H * W;

interface Inputs {
  faceRgb: Float64Array;
  faceAlpha: Float64Array;
  mouthRgb: Float64Array;
  mouthAlpha: Float64Array;
  backgrounds: Uint8Array[];
}

// Float64 composite (native/src/ops/composite.h) dotted with the upstream gradient g.
function loss(x: Inputs, r: number, g: Float32Array): number {
  let sum = 0;
  for (let b = 0; b < B; b++)
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++) {
        let dilated = Number.NEGATIVE_INFINITY;
        for (let i = Math.max(0, y - r); i <= Math.min(H - 1, y + r); i++)
          for (let j = Math.max(0, xx - r); j <= Math.min(W - 1, xx + r); j++)
            dilated = Math.max(dilated, x.mouthAlpha[(b * H + i) * W + j] as number);
        const p = (b * H + y) * W + xx;
        const fa = x.faceAlpha[p] as number;
        for (let c = 0; c < 3; c++) {
          const bg = ((x.backgrounds[b] as Uint8Array)[(y * W + xx) * 3 + c] as number) / 255;
          const mouth = (x.mouthRgb[p * 3 + c] as number) + bg * (1 - dilated);
          const out = Math.min(1, Math.max(0, (x.faceRgb[p * 3 + c] as number) + mouth * (1 - fa)));
          sum += (g[p * 3 + c] as number) * out;
        }
      }
  return sum;
}

function run(x: Inputs, r: number, g: Float32Array) {
  const f32 = (shape: number[], data: ArrayLike<number>) => Tensor.from('cpu', 'f32', shape, Float32Array.from(data));
  const nan = (shape: number[]) => f32(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));
  const grads = {
    faceRgb: nan([B, H, W, 3]),
    faceAlpha: nan([B, H, W]),
    mouthRgb: nan([B, H, W, 3]),
    mouthAlpha: nan([B, H, W]),
  };
  compositeBackward(
    {
      faceRgb: f32([B, H, W, 3], x.faceRgb),
      faceAlpha: f32([B, H, W], x.faceAlpha),
      mouthRgb: f32([B, H, W, 3], x.mouthRgb),
      mouthAlpha: f32([B, H, W], x.mouthAlpha),
      backgrounds: x.backgrounds.map((bg) => Tensor.from('cpu', 'u8', [H, W, 3], bg)),
      scratch: nan([B, H, W]),
    },
    r,
    f32([B, H, W, 3], g),
    Tensor.zeros('cpu', 'i32', [B, H, W]),
    grads,
  );
  return {
    faceRgb: grads.faceRgb.read(),
    faceAlpha: grads.faceAlpha.read(),
    mouthRgb: grads.mouthRgb.read(),
    mouthAlpha: grads.mouthAlpha.read(),
  };
}

function inputs(random: () => number): Inputs {
  const f64 = (n: number, lo: number, hi: number) => Float64Array.from(uniform(random, n, lo, hi));
  return {
    // Some sums leave [0, 1], where the clamp passes no gradient.
    faceRgb: f64(N * 3, -0.3, 0.9),
    faceAlpha: f64(N, 0, 1),
    mouthRgb: f64(N * 3, 0, 0.6),
    mouthAlpha: f64(N, 0, 1),
    backgrounds: [0, 1].map(() => Uint8Array.from({ length: H * W * 3 }, () => Math.floor(random() * 256))),
  };
}

for (const r of [0, 2, 6]) {
  t.test(`composite backward matches float64 finite differences: dilate radius ${r}`, async (t) => {
    const random = rng(60 + r);
    const x = inputs(random);
    const g = uniform(random, N * 3);
    const got = run(x, r, g);
    for (const key of ['faceRgb', 'faceAlpha', 'mouthRgb', 'mouthAlpha'] as const) {
      const values = x[key];
      const expected = [...values.keys()].map((i) => centralDifference(() => loss(x, r, g), values, i));
      const error = gradError(got[key], expected);
      t.ok(error < 1e-5, `${key}: error ${error}`);
    }
  });
}

t.test('composite backward sends the dilation gradient to the first maximum in raster order', async (t) => {
  const random = rng(70);
  const x = inputs(random);
  // Three alpha levels: most windows hold several equal maxima.
  x.mouthAlpha = x.mouthAlpha.map((v) => Math.round(v * 2) / 2);
  const r = 2;
  const g = uniform(random, N * 3);
  const got = run(x, r, g);
  const expected = new Float64Array(N);
  for (let b = 0; b < B; b++)
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++) {
        let best = -1;
        let at = 0;
        for (let i = Math.max(0, y - r); i <= Math.min(H - 1, y + r); i++)
          for (let j = Math.max(0, xx - r); j <= Math.min(W - 1, xx + r); j++) {
            const v = x.mouthAlpha[(b * H + i) * W + j] as number;
            if (v > best) [best, at] = [v, (b * H + i) * W + j];
          }
        // d dilated from the blend: -sum_c g (1 - face alpha) background, where the clamp passes.
        const p = (b * H + y) * W + xx;
        const fa = x.faceAlpha[p] as number;
        for (let c = 0; c < 3; c++) {
          const bg = ((x.backgrounds[b] as Uint8Array)[(y * W + xx) * 3 + c] as number) / 255;
          const pre =
            (x.faceRgb[p * 3 + c] as number) + ((x.mouthRgb[p * 3 + c] as number) + bg * (1 - best)) * (1 - fa);
          if (pre >= 0 && pre <= 1) expected[at] = (expected[at] as number) - (g[p * 3 + c] as number) * (1 - fa) * bg;
        }
      }
  t.ok(gradError(got.mouthAlpha, expected) < 1e-5, `error ${gradError(got.mouthAlpha, expected)}`);
});

t.test('composite backward rejects bad arguments with clear errors', async (t) => {
  const z = (shape: number[]) => Tensor.zeros('cpu', 'f32', shape);
  const inputsOf = {
    faceRgb: z([1, 4, 5, 3]),
    faceAlpha: z([1, 4, 5]),
    mouthRgb: z([1, 4, 5, 3]),
    mouthAlpha: z([1, 4, 5]),
    backgrounds: [Tensor.zeros('cpu', 'u8', [4, 5, 3])],
    scratch: z([1, 4, 5]),
  };
  const grads = {
    faceRgb: z([1, 4, 5, 3]),
    faceAlpha: z([1, 4, 5]),
    mouthRgb: z([1, 4, 5, 3]),
    mouthAlpha: z([1, 4, 5]),
  };
  const arg = Tensor.zeros('cpu', 'i32', [1, 4, 5]);
  t.throws(
    () => compositeBackward(inputsOf, 2, z([1, 4, 5]), arg, grads),
    /gradOut must be f32\[1,4,5,3\], got cpu f32\[1,4,5\]/,
  );
  t.throws(
    () => compositeBackward(inputsOf, 2, z([1, 4, 5, 3]), Tensor.zeros('cpu', 'f32', [1, 4, 5]) as never, grads),
    /argScratch must be i32\[1,4,5\], got cpu f32\[1,4,5\]/,
  );
  t.throws(
    () => compositeBackward(inputsOf, 2, z([1, 4, 5, 3]), arg, { ...grads, mouthAlpha: z([1, 4, 4]) }),
    /gradMouthAlpha must be f32\[1,4,5\], got cpu f32\[1,4,4\]/,
  );
  t.throws(() => compositeBackward(inputsOf, 40, z([1, 4, 5, 3]), arg, grads), /dilateRadius must be 0\.\.32, got 40/);
});
