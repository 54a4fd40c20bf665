// CUDA vs CPU parity of the rasterizer (run on a GPU machine: npm run test:gpu).
//
// Expected: identical images (max error 0). Every value that decides anything (culling, tile rectangles, depth
// keys, the 1/255 alpha cut, termination) and every accumulation is computed with correctly rounded float32
// operations in the same order on both sides (Strict in native/src/ops/rasterizer_math.h), despite
// --use_fast_math, and the radix sort breaks depth ties by row as the CPU twin does. The assertion allows the
// brief's 1e-4 so that a one-ulp difference in a denormal (flushed to zero on the GPU) cannot fail it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Camera, packCameras, Rasterizer } from '../../ops/rasterizer.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { maxRelError, rng } from '../random.js';
import { requireGpu } from './gpu.js';

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

function lookAt(eye: [number, number, number]): number[] {
  const len = Math.hypot(...eye);
  const z = eye.map((v) => -v / len) as [number, number, number];
  const xl = Math.hypot(z[2], z[0]);
  const x = [-z[2] / xl, 0, z[0] / xl] as [number, number, number]; // z x (0, 1, 0), normalised
  const y = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]];
  const dot = (a: number[]) => -(a[0] as number) * eye[0] - (a[1] as number) * eye[1] - (a[2] as number) * eye[2];
  return [...x, dot(x), ...y, dot(y), ...z, dot(z), 0, 0, 0, 1];
}

interface Batch {
  segments: Identity[];
  cameras: Camera[];
  width: number;
  height: number;
  shDegree: number;
}

function render(r: Rasterizer, device: DeviceKind, b: Batch) {
  const rows = b.segments.reduce((a, s) => a + s.count, 0);
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
  const pixels = B * b.height * b.width;
  const rgb = Tensor.from(device, 'f32', [B, b.height, b.width, 3], new Float32Array(pixels * 3).fill(Number.NaN));
  const alpha = Tensor.from(device, 'f32', [B, b.height, b.width], new Float32Array(pixels).fill(Number.NaN));
  const depth = Tensor.from(device, 'f32', [B, b.height, b.width], new Float32Array(pixels).fill(Number.NaN));
  const inputs = [
    cat((s) => s.means, 3),
    cat((s) => s.rotations, 4),
    cat((s) => s.scales, 3),
    Tensor.from(device, 'f32', [B, 20], packCameras(b.cameras)),
  ] as const;
  const opacities = b.segments.map((s) => Tensor.from(device, 'f32', [s.count], s.opacities));
  const sh = b.segments.map((s) => Tensor.from(device, 'f32', [s.sh.length], s.sh));
  const { intersections } = r.forward({
    rowCounts: b.segments.map((s) => s.count),
    means: inputs[0],
    rotations: inputs[1],
    scales: inputs[2],
    opacities,
    sh,
    cameras: inputs[3],
    width: b.width,
    height: b.height,
    shDegree: b.shDegree,
    rgb,
    alpha,
    depth,
  });
  const out = { rgb: rgb.read(), alpha: alpha.read(), depth: depth.read(), intersections };
  for (const tensor of [...inputs, ...opacities, ...sh, rgb, alpha, depth]) tensor.dispose();
  return out;
}

function compare(b: Batch, gpu: Rasterizer, cpu: Rasterizer, label: string): number {
  const want = render(cpu, 'cpu', b);
  const got = render(gpu, 'cuda', b);
  assert.equal(got.intersections, want.intersections, `${label}: intersections`);
  let worst = 0;
  for (const key of ['rgb', 'alpha', 'depth'] as const) {
    const error = maxRelError(got[key], want[key]);
    assert.ok(error < 1e-4, `${label} ${key}: max error ${error}`);
    worst = Math.max(worst, error);
  }
  return worst;
}

test('rasterizer: CUDA matches CPU on a 48k-Gaussian head, 4 segments at 512x512', (t) => {
  requireGpu();
  const random = rng(21);
  const shDegree = 2;
  const k = (shDegree + 1) ** 2;
  const a = head(random, 48000, k);
  const b = head(random, 30000, k);
  const camera = (eye: [number, number, number], cx = 256, cy = 256): Camera => ({
    worldToCamera: lookAt(eye),
    fx: 1200,
    fy: 1200,
    cx,
    cy,
  });
  const batch: Batch = {
    segments: [a, a, b, a],
    cameras: [
      camera([0, 0, -1]),
      camera([0.3, -0.1, -0.95]),
      camera([-0.2, 0.05, -1.1], 250.5, 261),
      camera([0, 0, -0.6]),
    ],
    width: 512,
    height: 512,
    shDegree,
  };
  const gpu = new Rasterizer('cuda');
  const cpu = new Rasterizer('cpu');
  // A small frame first, so the big one exercises workspace growth; then a small one again on the grown buffers.
  const small: Batch = {
    ...batch,
    segments: [head(random, 500, k)],
    cameras: [camera([0, 0, -1])],
    width: 96,
    height: 80,
  };
  const errors = [
    compare(small, gpu, cpu, 'small'),
    compare(batch, gpu, cpu, 'head'),
    compare(small, gpu, cpu, 'small again'),
  ];
  t.diagnostic(`max errors ${errors.join(', ')}; workspace ${(gpu.reservedBytes / 2 ** 20).toFixed(1)} MiB`);
  const first = render(gpu, 'cuda', batch);
  const second = render(gpu, 'cuda', batch);
  assert.deepEqual(second.rgb, first.rgb, 'CUDA renders are deterministic');
  let lit = 0;
  for (const v of first.alpha) if (v > 0.5) lit++;
  assert.ok(lit > 0.05 * first.alpha.length, `the heads cover the images (${lit} pixels with alpha > 0.5)`);
  gpu.dispose();
  cpu.dispose();
});

test('rasterizer: CUDA refuses tensors on another device', () => {
  requireGpu();
  const gpu = new Rasterizer('cuda');
  const f32 = (device: DeviceKind, shape: number[]) => Tensor.zeros(device, 'f32', shape);
  assert.throws(
    () =>
      gpu.forward({
        rowCounts: [1],
        means: f32('cpu', [1, 3]),
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
      }),
    /means is on cpu f32\[1,3\] but the op runs on cuda/,
  );
  gpu.dispose();
});
