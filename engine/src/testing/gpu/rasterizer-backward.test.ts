// CUDA vs CPU parity of the rasterizer's backward pass (run on a GPU machine: npm run test:gpu).
//
// Expected: the same gradients up to float32 summation order. Both sides make the same decisions (which Gaussians
// each pixel blended comes from the bit-identical training forward, and the backward repeats its Strict skip
// tests), but CUDA sums each Gaussian's per-pixel terms with warp shuffles and atomicAdd in a run-dependent order,
// where the CPU twin sums them in sorted-list order, and CUDA's --use_fast_math divides and square-roots to ~2 ulp
// in the plain-float parts. Terms of both signs partly cancel, so elements are compared against the scale of their
// kind: max |cuda - cpu| <= 1e-3 * max |cpu| per output (the CPU float64 gradient check's tolerance is 2e-3; a wrong
// term is off by 1e-2 or more). Radii come straight from the forward and must match exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Camera, packCameras, Rasterizer } from '../../ops/rasterizer.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { maxRelError, rng } from '../random.js';
import { requireGpu } from './gpu.js';

const BOUND = 1e-3;

interface Identity {
  count: number;
  means: Float32Array;
  rotations: Float32Array;
  scales: Float32Array;
  opacities: Float32Array;
  sh: Float32Array;
}

// A head-sized cloud: a 0.2 m box around the origin, scales 0.5..6 mm (log-uniform), random orientations.
function head(random: () => number, count: number, k: number): Identity {
  const f = (n: number, g: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => g(i));
  return {
    count,
    means: f(count * 3, () => 0.2 * (random() - 0.5)),
    rotations: f(count * 4, () => random() - 0.5),
    scales: f(count * 3, () => 0.0005 * 12 ** random()),
    opacities: f(count, () => -3 + 7 * random()),
    sh: f(count * k * 3, (i) => (i % (k * 3) < 3 ? 2 : 0.5) * (random() - 0.5)),
  };
}

function camera(eye: [number, number, number], size: number): Camera {
  const len = Math.hypot(...eye);
  const z = eye.map((v) => -v / len) as [number, number, number];
  const xl = Math.hypot(z[2], z[0]);
  const x = [-z[2] / xl, 0, z[0] / xl] as [number, number, number];
  const y = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]];
  const dot = (a: number[]) => -(a[0] as number) * eye[0] - (a[1] as number) * eye[1] - (a[2] as number) * eye[2];
  const f = (1200 * size) / 512;
  return {
    worldToCamera: [...x, dot(x), ...y, dot(y), ...z, dot(z), 0, 0, 0, 1],
    fx: f,
    fy: f,
    cx: size / 2,
    cy: size / 2,
  };
}

interface Batch {
  segments: Identity[];
  cameras: Camera[];
  size: number;
  shDegree: number;
  upstream: { rgb: Float32Array; alpha: Float32Array; depth: Float32Array };
}

const OUTPUTS = ['dMeans', 'dRotations', 'dScales', 'dOpacities', 'dSh', 'means2dGradNorm', 'radii'] as const;
type Gradients = Record<(typeof OUTPUTS)[number], Float32Array> & { images: Float32Array[] };

function gradients(r: Rasterizer, device: DeviceKind, b: Batch): Gradients {
  const rows = b.segments.reduce((a, s) => a + s.count, 0);
  const k = (b.shDegree + 1) ** 2;
  const cat = (pick: (s: Identity) => Float32Array, width: number) => {
    const out = new Float32Array(rows * width);
    let at = 0;
    for (const s of b.segments) {
      out.set(pick(s), at);
      at += s.count * width;
    }
    return Tensor.from(device, 'f32', [rows, width], out);
  };
  const B = b.segments.length;
  const image = [B, b.size, b.size];
  const owned: Tensor<'f32'>[] = [];
  const keep = (t: Tensor<'f32'>) => {
    owned.push(t);
    return t;
  };
  const args = {
    rowCounts: b.segments.map((s) => s.count),
    means: keep(cat((s) => s.means, 3)),
    rotations: keep(cat((s) => s.rotations, 4)),
    scales: keep(cat((s) => s.scales, 3)),
    opacities: b.segments.map((s) => keep(Tensor.from(device, 'f32', [s.count], s.opacities))),
    sh: b.segments.map((s) => keep(Tensor.from(device, 'f32', [s.sh.length], s.sh))),
    cameras: keep(Tensor.from(device, 'f32', [B, 20], packCameras(b.cameras))),
    width: b.size,
    height: b.size,
    shDegree: b.shDegree,
    rgb: keep(Tensor.zeros(device, 'f32', [...image, 3])),
    alpha: keep(Tensor.zeros(device, 'f32', image)),
    depth: keep(Tensor.zeros(device, 'f32', image)),
  };
  r.forward(args, { train: true });
  const nan = (shape: number[]) =>
    keep(Tensor.from(device, 'f32', shape, new Float32Array(shape.reduce((a, c) => a * c)).fill(Number.NaN)));
  const out = {
    dMeans: nan([rows, 3]),
    dRotations: nan([rows, 4]),
    dScales: nan([rows, 3]),
    dOpacities: nan([rows]),
    dSh: nan([rows, k, 3]),
    means2dGradNorm: nan([rows]),
    radii: nan([rows]),
  };
  r.backward({
    dRgb: keep(Tensor.from(device, 'f32', [...image, 3], b.upstream.rgb)),
    dAlpha: keep(Tensor.from(device, 'f32', image, b.upstream.alpha)),
    dDepth: keep(Tensor.from(device, 'f32', image, b.upstream.depth)),
    ...out,
  });
  const result = {
    ...(Object.fromEntries(OUTPUTS.map((key) => [key, out[key].read()])) as Record<
      (typeof OUTPUTS)[number],
      Float32Array
    >),
    images: [args.rgb.read(), args.alpha.read(), args.depth.read()],
  };
  for (const t of owned) t.dispose();
  return result;
}

/** max |a - b| / max |b|; infinite where a value is NaN. */
function scaledError(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i] as number));
    const e = Math.abs((a[i] as number) - (b[i] as number));
    worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
  }
  return scale > 0 ? worst / scale : worst;
}

function compare(got: Gradients, want: Gradients, label: string): string[] {
  for (const [i, img] of got.images.entries()) {
    // As in rasterizer.test.ts: identical bits, up to a denormal flushed to zero on the GPU.
    assert.ok(maxRelError(img, want.images[i] as Float32Array) < 1e-4, `${label}: training forward images match`);
  }
  assert.deepEqual(got.radii, want.radii, `${label}: radii identical`);
  return OUTPUTS.filter((key) => key !== 'radii').map((key) => {
    const error = scaledError(got[key], want[key]);
    assert.ok(error <= BOUND, `${label} ${key}: max error ${error} of the gradients' scale`);
    return `${key} ${error.toExponential(1)}`;
  });
}

function batch(random: () => number, segments: Identity[], cameras: Camera[], size: number, shDegree: number): Batch {
  const pixels = segments.length * size * size;
  const u = (n: number) => Float32Array.from({ length: n }, () => 2 * random() - 1);
  return { segments, cameras, size, shDegree, upstream: { rgb: u(pixels * 3), alpha: u(pixels), depth: u(pixels) } };
}

test('rasterizer backward: CUDA matches CPU on a 48k-Gaussian head, 2 segments at 256x256', (t) => {
  requireGpu();
  const random = rng(31);
  const shDegree = 2;
  const k = (shDegree + 1) ** 2;
  const a = head(random, 48000, k);
  const b = head(random, 30000, k);
  const small = batch(random, [head(random, 400, k)], [camera([0, 0, -1], 64)], 64, shDegree);
  const big = batch(random, [a, b], [camera([0, 0, -1], 256), camera([0.3, -0.1, -0.95], 256)], 256, shDegree);
  const gpu = new Rasterizer('cuda');
  const cpu = new Rasterizer('cpu');
  // A small batch first, so the big one grows the workspace; then the small one again on the grown buffers.
  const report = [
    compare(gradients(gpu, 'cuda', small), gradients(cpu, 'cpu', small), 'small'),
    compare(gradients(gpu, 'cuda', big), gradients(cpu, 'cpu', big), 'head'),
    compare(gradients(gpu, 'cuda', small), gradients(cpu, 'cpu', small), 'small again'),
  ];
  t.diagnostic(`errors of the gradients' scale: ${report.map((r) => r.join(', ')).join(' | ')}`);
  const first = gradients(gpu, 'cuda', big);
  const second = gradients(gpu, 'cuda', big);
  for (const key of OUTPUTS)
    assert.ok(scaledError(second[key], first[key]) <= BOUND, `CUDA ${key} repeats within the atomics' reordering`);
  let touched = 0;
  for (const v of first.dOpacities) if (v !== 0) touched++;
  assert.ok(touched > 0.3 * first.dOpacities.length, `most Gaussians get gradients (${touched})`);
  gpu.dispose();
  cpu.dispose();
});

test('rasterizer backward: CUDA refuses gradients on another device', () => {
  requireGpu();
  const gpu = new Rasterizer('cuda');
  const f32 = (device: DeviceKind, shape: number[]) => Tensor.zeros(device, 'f32', shape);
  gpu.forward(
    {
      rowCounts: [1],
      means: f32('cuda', [1, 3]),
      rotations: f32('cuda', [1, 4]),
      scales: f32('cuda', [1, 3]),
      opacities: [f32('cuda', [1])],
      sh: [f32('cuda', [1, 1, 3])],
      cameras: f32('cuda', [1, 20]),
      width: 16,
      height: 16,
      shDegree: 0,
      rgb: f32('cuda', [1, 16, 16, 3]),
      alpha: f32('cuda', [1, 16, 16]),
    },
    { train: true },
  );
  assert.throws(
    () =>
      gpu.backward({
        dRgb: f32('cpu', [1, 16, 16, 3]),
        dAlpha: f32('cuda', [1, 16, 16]),
        dMeans: f32('cuda', [1, 3]),
        dRotations: f32('cuda', [1, 4]),
        dScales: f32('cuda', [1, 3]),
        dOpacities: f32('cuda', [1]),
        dSh: f32('cuda', [1, 1, 3]),
      }),
    /dRgb is on cpu f32\[1,16,16,3\] but the op runs on cuda/,
  );
  gpu.dispose();
});
