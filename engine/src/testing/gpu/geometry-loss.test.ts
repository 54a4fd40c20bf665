// CUDA vs CPU parity of the geometry regulariser (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GEOMETRY_WORKSPACE, geometryLoss } from '../../ops/geometry-loss.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { maxRelError, rng } from '../random.js';
import { requireGpu } from './gpu.js';

test('geometryLoss: CUDA matches CPU at 512x512', () => {
  requireGpu();
  const random = rng(73);
  const [H, W] = [512, 512];
  const depth = new Float32Array(H * W);
  const alpha = new Float32Array(H * W);
  const prior = new Float32Array(H * W * 4);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const inside = (x - 256) ** 2 + (y - 256) ** 2 < 180 ** 2;
      const z = 0.5 + 0.05 * Math.cos((x - 256) / 120) * Math.cos((y - 256) / 140);
      alpha[p] = inside ? 0.55 + 0.45 * random() : 0.1 * random();
      depth[p] = (z + 0.002 * random()) * (alpha[p] as number);
      const n = [(x - 256) / 400, (y - 256) / 400, -1];
      const len = Math.hypot(...n);
      prior.set([...n.map((v) => v / len), inside ? 1.2 * z : 0], 4 * p);
    }
  const run = (device: DeviceKind) => {
    const loss = Tensor.zeros(device, 'f32', [2]);
    const grads = { depth: Tensor.zeros(device, 'f32', [1, H, W]), alpha: Tensor.zeros(device, 'f32', [1, H, W]) };
    geometryLoss(
      Tensor.from(device, 'f32', [1, H, W], depth),
      Tensor.from(device, 'f32', [1, H, W], alpha),
      Tensor.from(device, 'f32', [1, H, W, 4], prior),
      { intrinsics: { fx: 900, fy: 900, cx: 256, cy: 256 }, weightDepth: 1e-2, weightNormal: 1e-3 },
      Tensor.zeros(device, 'f32', [GEOMETRY_WORKSPACE]),
      loss,
      grads,
    );
    return { loss: loss.read(), depth: grads.depth.read(), alpha: grads.alpha.read() };
  };
  const [cuda, cpu] = [run('cuda'), run('cpu')];
  // Double sums in a different order on each side; per-pixel terms the same arithmetic.
  assert.ok(maxRelError(cuda.loss, cpu.loss) < 1e-5, `loss ${cuda.loss} vs ${cpu.loss}`);
  const scale = (g: Float32Array) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (const key of ['depth', 'alpha'] as const) {
    const error =
      cuda[key].reduce((m, v, i) => Math.max(m, Math.abs(v - (cpu[key][i] as number))), 0) / scale(cpu[key]);
    // --use_fast_math's approximate sqrt and division in the normals: 1.3e-4 seen on the H200 (2026-12-04).
    assert.ok(error < 5e-4, `grad ${key}: error ${error} of the largest`);
  }
});
