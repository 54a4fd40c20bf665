import t from 'tap';
import { dssimLoss, l1Loss, SSIM_WORKSPACE_MAPS } from '../src/ops/losses.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError, pick, sampleIndices } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

const [B, H, W] = [2, 13, 17];
const N = B * H * W;
const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);

// Float64 references (native/src/ops/losses.h).
const window = (() => {
  const g = [...Array(11).keys()].map((i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5)));
  const sum = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / sum);
})();

// Zero-padded 11 x 11 Gaussian blur of one H x W map.
function blur(map: Float64Array): Float64Array {
  const pass = (src: Float64Array, dx: number, dy: number) =>
    Float64Array.from(src, (_, i) => {
      const y = Math.floor(i / W);
      const x = i % W;
      let sum = 0;
      for (let d = -5; d <= 5; d++) {
        const yy = y + d * dy;
        const xx = x + d * dx;
        if (yy >= 0 && yy < H && xx >= 0 && xx < W) sum += (window[d + 5] as number) * (src[yy * W + xx] as number);
      }
      return sum;
    });
  return pass(pass(map, 1, 0), 0, 1);
}

function l1(image: Float64Array, target: Float64Array, mask: Float32Array | null, b: number): number {
  let sum = 0;
  for (let p = b * H * W; p < (b + 1) * H * W; p++)
    for (let c = 0; c < 3; c++)
      sum += (mask ? (mask[p] as number) : 1) * Math.abs((image[p * 3 + c] as number) - (target[p * 3 + c] as number));
  return sum / (3 * H * W);
}

function dssim(image: Float64Array, target: Float64Array, mask: Float32Array | null, b: number): number {
  let sum = 0;
  for (let c = 0; c < 3; c++) {
    const channel = (a: Float64Array, f: (v: number, p: number) => number) =>
      Float64Array.from({ length: H * W }, (_, p) => f(a[(b * H * W + p) * 3 + c] as number, p));
    const x = channel(image, (v) => v);
    const y = channel(target, (v) => v);
    const [mx, my, xx, yy, xy] = [
      x,
      y,
      x.map((v) => v * v),
      y.map((v) => v * v),
      x.map((v, p) => v * (y[p] as number)),
    ].map(blur) as Float64Array[];
    for (let p = 0; p < H * W; p++) {
      const [u, v] = [mx?.[p] as number, my?.[p] as number];
      const ssim =
        ((2 * u * v + 1e-4) * (2 * ((xy?.[p] as number) - u * v) + 9e-4)) /
        ((u * u + v * v + 1e-4) * ((xx?.[p] as number) - u * u + ((yy?.[p] as number) - v * v) + 9e-4));
      sum += (mask ? (mask[b * H * W + p] as number) : 1) * (1 - ssim);
    }
  }
  return sum / (3 * H * W);
}

type Loss = typeof l1;
const ops: [
  string,
  Loss,
  (inputs: Parameters<typeof l1Loss>[0], w: number, loss: Tensor<'f32'>, g: Tensor<'f32'> | null) => void,
][] = [
  ['L1', l1, (inputs, w, loss, g) => l1Loss(inputs, w, loss, g)],
  [
    'D-SSIM',
    dssim,
    (inputs, w, loss, g) =>
      dssimLoss(inputs, w, loss, g, Tensor.zeros('cpu', 'f32', [SSIM_WORKSPACE_MAPS, B, H, W, 3])),
  ],
];

for (const [name, reference, op] of ops)
  for (const masked of [false, true]) {
    t.test(`${name} loss and gradient match float64 finite differences${masked ? ', masked' : ''}`, async (t) => {
      const random = rng(masked ? 81 : 80);
      const image = uniform(random, N * 3, 0, 1);
      // A target near the image, as in training (SSIM well inside (-1, 1)).
      const target = image.map((v) => Math.min(1, Math.max(0, v + (random() - 0.5) * 0.4)));
      const mask = masked ? uniform(random, N, 0, 1).map((v) => (v < 0.3 ? 0 : v)) : null;
      const weight = 0.7;
      const base = uniform(random, N * 3, -0.01, 0.01);
      const loss = cpu([B], new Float32Array(B).fill(Number.NaN));
      const grad = cpu([B, H, W, 3], base.slice());
      const inputs = {
        image: cpu([B, H, W, 3], image),
        target: cpu([B, H, W, 3], target),
        mask: mask && cpu([B, H, W], mask),
      };
      op(inputs, weight, loss, grad);
      const x = Float64Array.from(image);
      const y = Float64Array.from(target);
      const expectedLoss = [0, 1].map((b) => reference(x, y, mask, b));
      const lossError = gradError(loss.read(), expectedLoss, 1);
      t.ok(lossError < 1e-5, `loss ${Array.from(loss.read())} vs ${expectedLoss}: error ${lossError}`);
      const at = sampleIndices(random, N * 3, 300);
      const total = () => weight * (reference(x, y, mask, 0) + reference(x, y, mask, 1));
      const expected = at.map((i) => centralDifference(total, x, i));
      const got = pick(grad.read(), at).map((v, k) => v - (base[at[k] as number] as number));
      t.ok(gradError(got, expected) < 1e-4, `gradient: error ${gradError(got, expected)}`);
      // Without a gradient tensor only the loss is written.
      const again = cpu([B], new Float32Array(B));
      op(inputs, weight, again, null);
      t.same(Array.from(again.read()), Array.from(loss.read()), 'same loss without a gradient');
    });
  }

t.test('losses reject bad arguments with clear errors', async (t) => {
  const image = Tensor.zeros('cpu', 'f32', [2, 4, 5, 3]);
  const inputs = { image, target: image, mask: null };
  const loss = Tensor.zeros('cpu', 'f32', [2]);
  t.throws(
    () => l1Loss({ ...inputs, target: Tensor.zeros('cpu', 'f32', [2, 4, 5]) }, 1, loss, null),
    /target must be f32\[2,4,5,3\], got cpu f32\[2,4,5\]/,
  );
  t.throws(
    () => l1Loss({ ...inputs, mask: Tensor.zeros('cpu', 'f32', [2, 4, 4]) }, 1, loss, null),
    /mask must be f32\[2,4,5\]/,
  );
  t.throws(() => l1Loss(inputs, 1, Tensor.zeros('cpu', 'f32', [3]), null), /loss must be f32\[2\], got cpu f32\[3\]/);
  t.throws(() => l1Loss(inputs, Number.NaN, loss, null), /weight must be a finite number/);
  t.throws(
    () => dssimLoss(inputs, 1, loss, null, Tensor.zeros('cpu', 'f32', [7, 2, 4, 5, 3])),
    /workspace must be f32\[8,2,4,5,3\], got cpu f32\[7,2,4,5,3\]/,
  );
});
