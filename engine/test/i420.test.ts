import t from 'tap';
import { i420Size, rgbToI420, type YuvRange } from '../src/ops/i420.js';
import { Tensor } from '../src/tensor.js';
import { rng, uniform } from '../src/testing/random.js';

// BT.601 in float64, before rounding: [Y, U, V] of one RGB colour in [0, 1].
function bt601(rgb: number[], range: YuvRange): number[] {
  const [r, g, b] = rgb.map((v) => Math.min(1, Math.max(0, v))) as [number, number, number];
  const y = 0.299 * r + 0.587 * g + 0.114 * b;
  const cb = (b - y) / 1.772;
  const cr = (r - y) / 1.402;
  return range === 'limited'
    ? [16 + 219 * y, 128 + 224 * cb, 128 + 224 * cr]
    : [255 * y, 128 + 255 * cb, 128 + 255 * cr];
}
const round = (v: number) => Math.min(255, Math.max(0, Math.floor(v + 0.5)));

// Converts B frames of H x W.
function convert(rgb: Float32Array, B: number, H: number, W: number, range: YuvRange): Uint8Array {
  const out = Tensor.zeros('cpu', 'u8', [B, i420Size(W, H)]);
  rgbToI420(Tensor.from('cpu', 'f32', [B, H, W, 3], rgb), out, range);
  return out.read();
}

const colours: Record<string, [number[], number[], number[]]> = {
  // name: rgb, limited-range YUV, full-range YUV
  black: [
    [0, 0, 0],
    [16, 128, 128],
    [0, 128, 128],
  ],
  white: [
    [1, 1, 1],
    [235, 128, 128],
    [255, 128, 128],
  ],
  red: [
    [1, 0, 0],
    [81, 90, 240],
    [76, 85, 255],
  ],
  green: [
    [0, 1, 0],
    [145, 54, 34],
    [150, 44, 21],
  ],
  blue: [
    [0, 0, 1],
    [41, 240, 110],
    [29, 255, 107],
  ],
};

for (const range of ['limited', 'full'] as const) {
  t.test(`rgbToI420 converts known colours (${range} range)`, async (t) => {
    const names = Object.keys(colours);
    // One 2x4 frame per colour.
    const rgb = new Float32Array(names.length * 8 * 3);
    names.forEach((name, b) => {
      for (let p = 0; p < 8; p++) rgb.set((colours[name] as [number[], number[], number[]])[0], (b * 8 + p) * 3);
    });
    const out = convert(rgb, names.length, 2, 4, range);
    names.forEach((name, b) => {
      const [input, limited, full] = colours[name] as [number[], number[], number[]];
      const want = range === 'limited' ? limited : full;
      t.same(want, bt601(input, range).map(round), `${name}: table agrees with the BT.601 formula`);
      const frame = out.subarray(b * 12, (b + 1) * 12);
      t.same(
        Array.from(frame),
        [...Array(8).fill(want[0]), ...Array(2).fill(want[1]), ...Array(2).fill(want[2])],
        name,
      );
    });
  });
}

t.test('rgbToI420 lays out Y, then U, then V, with chroma from each 2x2 block average', async (t) => {
  const random = rng(40);
  const [B, H, W] = [2, 6, 10];
  // Values past [0, 1] are clamped before conversion.
  const rgb = uniform(random, B * H * W * 3, -0.2, 1.2);
  for (const range of ['limited', 'full'] as const) {
    const out = convert(rgb, B, H, W, range);
    const expected: number[] = [];
    for (let b = 0; b < B; b++) {
      const pixel = (y: number, x: number) =>
        [0, 1, 2].map((c) => Math.min(1, Math.max(0, rgb[((b * H + y) * W + x) * 3 + c] as number)));
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expected.push(bt601(pixel(y, x), range)[0] as number);
      for (const plane of [1, 2])
        for (let by = 0; by < H / 2; by++)
          for (let bx = 0; bx < W / 2; bx++) {
            const block = [
              pixel(2 * by, 2 * bx),
              pixel(2 * by, 2 * bx + 1),
              pixel(2 * by + 1, 2 * bx),
              pixel(2 * by + 1, 2 * bx + 1),
            ];
            const mean = [0, 1, 2].map((c) => block.reduce((a, p) => a + (p[c] as number), 0) / 4);
            expected.push(bt601(mean, range)[plane] as number);
          }
    }
    t.equal(out.length, expected.length);
    // float32 arithmetic may round the other way only where the exact value sits on a rounding boundary.
    const wrong = expected.filter((v, i) => out[i] !== round(v) && Math.abs((v % 1) - 0.5) > 1e-4).length;
    t.equal(wrong, 0, `${range}: every sample rounds to the nearest value`);
  }
});

t.test('rgbToI420 rejects odd sizes and bad arguments with clear errors', async (t) => {
  const rgb = (H: number, W: number) => Tensor.zeros('cpu', 'f32', [1, H, W, 3]);
  t.doesNotThrow(() => rgbToI420(rgb(4, 6), Tensor.zeros('cpu', 'u8', [1, 36])));
  t.throws(() => rgbToI420(rgb(4, 5), Tensor.zeros('cpu', 'u8', [1, 30])), /even width and height .* got 5x4/);
  t.throws(() => rgbToI420(rgb(3, 6), Tensor.zeros('cpu', 'u8', [1, 27])), /even width and height .* got 6x3/);
  t.throws(() => rgbToI420(rgb(4, 6), Tensor.zeros('cpu', 'u8', [1, 24])), /out must be u8\[1,36\]/);
  t.throws(
    () => rgbToI420(rgb(4, 6), Tensor.zeros('cpu', 'f32', [1, 36]) as unknown as Tensor<'u8'>),
    /out must be u8/,
  );
  t.throws(
    () => rgbToI420(Tensor.zeros('cpu', 'f32', [1, 4, 6, 4]), Tensor.zeros('cpu', 'u8', [1, 36])),
    /rgb must be f32\[\*,\*,\*,3\]/,
  );
});
