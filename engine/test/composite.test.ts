import t from 'tap';
import { type CompositeInputs, composite } from '../src/ops/composite.js';
import { Tensor } from '../src/tensor.js';
import { maxRelError, rng, uniform } from '../src/testing/random.js';

interface Frames {
  B: number;
  H: number;
  W: number;
  faceRgb: Float32Array;
  faceAlpha: Float32Array;
  mouthRgb: Float32Array;
  mouthAlpha: Float32Array;
  backgrounds: Uint8Array[];
}

function randomFrames(seed: number, B: number, H: number, W: number): Frames {
  const random = rng(seed);
  const n = B * H * W;
  // Sparse mouth alpha (mostly 0) makes the dilation visible; lit pixels on the corners and edges test the borders.
  const mouthAlpha = Float32Array.from({ length: n }, () => (random() < 0.03 ? random() : 0));
  for (let b = 0; b < B; b++) {
    mouthAlpha[b * H * W] = 1;
    mouthAlpha[(b + 1) * H * W - 1] = 0.9;
    mouthAlpha[b * H * W + Math.floor(H / 2) * W + W - 1] = 0.8;
  }
  return {
    B,
    H,
    W,
    // Face colour beyond [0, 1] exercises the output clamp.
    faceRgb: uniform(random, n * 3, -0.1, 1.2),
    faceAlpha: uniform(random, n, 0, 1),
    mouthRgb: uniform(random, n * 3, 0, 1),
    mouthAlpha,
    backgrounds: Array.from({ length: B }, () =>
      Uint8Array.from({ length: H * W * 3 }, () => Math.floor(random() * 256)),
    ),
  };
}

// Float64 reference with a direct 2D window maximum (no separability assumed).
function reference(f: Frames, r: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < f.B; b++)
    for (let y = 0; y < f.H; y++)
      for (let x = 0; x < f.W; x++) {
        let dilated = 0;
        for (let yy = Math.max(0, y - r); yy <= Math.min(f.H - 1, y + r); yy++)
          for (let xx = Math.max(0, x - r); xx <= Math.min(f.W - 1, x + r); xx++)
            dilated = Math.max(dilated, f.mouthAlpha[(b * f.H + yy) * f.W + xx] as number);
        const p = (b * f.H + y) * f.W + x;
        for (let c = 0; c < 3; c++) {
          const bg = ((f.backgrounds[b] as Uint8Array)[(y * f.W + x) * 3 + c] as number) / 255;
          const mouth = (f.mouthRgb[p * 3 + c] as number) + bg * (1 - dilated);
          const v = (f.faceRgb[p * 3 + c] as number) + mouth * (1 - (f.faceAlpha[p] as number));
          out.push(Math.min(1, Math.max(0, v)));
        }
      }
  return out;
}

function run(f: Frames, r: number): Float32Array {
  const { B, H, W } = f;
  const inputs: CompositeInputs = {
    faceRgb: Tensor.from('cpu', 'f32', [B, H, W, 3], f.faceRgb),
    faceAlpha: Tensor.from('cpu', 'f32', [B, H, W], f.faceAlpha),
    mouthRgb: Tensor.from('cpu', 'f32', [B, H, W, 3], f.mouthRgb),
    mouthAlpha: Tensor.from('cpu', 'f32', [B, H, W], f.mouthAlpha),
    backgrounds: f.backgrounds.map((bg) => Tensor.from('cpu', 'u8', [H, W, 3], bg)),
    scratch: Tensor.zeros('cpu', 'f32', [B, H, W]),
  };
  const out = Tensor.from('cpu', 'f32', [B, H, W, 3], new Float32Array(B * H * W * 3).fill(Number.NaN));
  composite(inputs, r, out);
  return out.read();
}

// Radius 6 is the official 13x13 pool; 0 disables dilation; 20 exceeds the image so every window is clipped.
for (const r of [6, 0, 1, 20]) {
  t.test(`composite matches the float64 reference (radius ${r}, odd 17x23 frames)`, async (t) => {
    const frames = randomFrames(30 + r, 3, 17, 23);
    const got = run(frames, r);
    const error = maxRelError(got, reference(frames, r));
    t.ok(error < 1e-6, `max error ${error}`);
  });
}

t.test('composite dilates the mouth alpha up to the image borders', async (t) => {
  // One opaque mouth pixel at the corner, black mouth colour, white background, transparent face: the output is
  // black exactly over the clipped (r + 1) x (r + 1) corner window and white elsewhere.
  const B = 1;
  const H = 9;
  const W = 12;
  const r = 3;
  const mouthAlpha = new Float32Array(H * W);
  mouthAlpha[0] = 1;
  const frames: Frames = {
    B,
    H,
    W,
    faceRgb: new Float32Array(H * W * 3),
    faceAlpha: new Float32Array(H * W),
    mouthRgb: new Float32Array(H * W * 3),
    mouthAlpha,
    backgrounds: [new Uint8Array(H * W * 3).fill(255)],
  };
  const got = run(frames, r);
  let wrong = 0;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) if (got[(y * W + x) * 3] !== (x <= r && y <= r ? 0 : 1)) wrong++;
  t.equal(wrong, 0);
});

t.test('composite rejects bad arguments with clear errors', async (t) => {
  const [B, H, W] = [2, 4, 6];
  const base: CompositeInputs = {
    faceRgb: Tensor.zeros('cpu', 'f32', [B, H, W, 3]),
    faceAlpha: Tensor.zeros('cpu', 'f32', [B, H, W]),
    mouthRgb: Tensor.zeros('cpu', 'f32', [B, H, W, 3]),
    mouthAlpha: Tensor.zeros('cpu', 'f32', [B, H, W]),
    backgrounds: [Tensor.zeros('cpu', 'u8', [H, W, 3]), Tensor.zeros('cpu', 'u8', [H, W, 3])],
    scratch: Tensor.zeros('cpu', 'f32', [B, H, W]),
  };
  const out = Tensor.zeros('cpu', 'f32', [B, H, W, 3]);
  t.doesNotThrow(() => composite(base, 6, out));
  const bg = base.backgrounds[0] as Tensor<'u8'>;
  t.throws(() => composite({ ...base, backgrounds: [bg] }, 6, out), /backgrounds has 1 tensors for 2 segments/);
  t.throws(
    () => composite({ ...base, backgrounds: [bg, Tensor.zeros('cpu', 'u8', [W, H, 3])] }, 6, out),
    /backgrounds\[1\] must be u8\[4,6,3\], got cpu u8\[6,4,3\]/,
  );
  t.throws(
    () =>
      composite(
        { ...base, backgrounds: [bg, Tensor.zeros('cpu', 'f32', [H, W, 3]) as unknown as Tensor<'u8'>] },
        6,
        out,
      ),
    /backgrounds\[1\] must be u8/,
  );
  t.throws(
    () => composite({ ...base, scratch: Tensor.zeros('cpu', 'f32', [B, H]) }, 6, out),
    /scratch must be f32\[2,4,6\]/,
  );
  t.throws(
    () => composite({ ...base, faceAlpha: Tensor.zeros('cpu', 'f32', [B, H, W + 1]) }, 6, out),
    /faceAlpha must be f32\[2,4,6\]/,
  );
  t.throws(() => composite(base, 33, out), /dilateRadius must be 0..32, got 33/);
  t.throws(() => composite(base, -1, out), /dilateRadius must be 0..32, got -1/);
  t.throws(() => composite(base, 6, Tensor.zeros('cpu', 'f32', [B, H, W, 4])), /out must be f32\[2,4,6,3\]/);
});
