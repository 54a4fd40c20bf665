// CUDA vs CPU parity of the composite backward (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compositeBackward } from '../../ops/composite.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('composite backward: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(41);
  const [B, H, W] = [3, 128, 160];
  const n = B * H * W;
  const data = {
    faceRgb: uniform(random, n * 3, -0.3, 0.9),
    faceAlpha: uniform(random, n, 0, 1),
    mouthRgb: uniform(random, n * 3, 0, 0.6),
    // Quantised alpha: windows hold equal maxima, which both backends must resolve the same way.
    mouthAlpha: uniform(random, n, 0, 1).map((v) => Math.round(v * 4) / 4),
    gradOut: uniform(random, n * 3),
    backgrounds: [0, 1, 2].map(() => Uint8Array.from({ length: H * W * 3 }, () => Math.floor(random() * 256))),
  };
  for (const radius of [0, 6]) {
    const run = (device: DeviceKind) => {
      const f32 = (shape: number[], x: Float32Array) => Tensor.from(device, 'f32', shape, x);
      const nan = (shape: number[]) => f32(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));
      const grads = {
        faceRgb: nan([B, H, W, 3]),
        faceAlpha: nan([B, H, W]),
        mouthRgb: nan([B, H, W, 3]),
        mouthAlpha: nan([B, H, W]),
      };
      compositeBackward(
        {
          faceRgb: f32([B, H, W, 3], data.faceRgb),
          faceAlpha: f32([B, H, W], data.faceAlpha),
          mouthRgb: f32([B, H, W, 3], data.mouthRgb),
          mouthAlpha: f32([B, H, W], data.mouthAlpha),
          backgrounds: data.backgrounds.map((bg) => Tensor.from(device, 'u8', [H, W, 3], bg)),
          scratch: nan([B, H, W]),
        },
        radius,
        f32([B, H, W, 3], data.gradOut),
        Tensor.zeros(device, 'i32', [B, H, W]),
        grads,
      );
      return Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, v.read()]));
    };
    const cuda = run('cuda');
    const cpu = run('cpu');
    for (const [key, got] of Object.entries(cuda)) {
      // Same arithmetic per pixel and the same gathers; the GPU fuses multiply-adds, which may move a value lying
      // within an ulp of the clamp's bounds across it (~1e-7 of the values): allow that few, nothing else.
      const want = cpu[key] as Float32Array;
      let scale = 0;
      for (const v of want) scale = Math.max(scale, Math.abs(v));
      let off = 0;
      for (let i = 0; i < got.length; i++)
        if (!(Math.abs((got[i] as number) - (want[i] as number)) <= 1e-5 * scale)) off++;
      assert.ok(off <= got.length * 1e-5, `radius ${radius} ${key}: ${off} of ${got.length} differ`);
    }
  }
});
