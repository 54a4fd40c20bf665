// CUDA vs CPU parity of the composite (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composite } from '../../ops/composite.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { maxRelError, rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('composite: CUDA matches CPU on 4 frames of 512x512', () => {
  requireGpu();
  const random = rng(70);
  const [B, H, W] = [4, 512, 512];
  const n = B * H * W;
  const faceRgb = uniform(random, n * 3, -0.1, 1.2);
  const faceAlpha = uniform(random, n, 0, 1);
  const mouthRgb = uniform(random, n * 3, 0, 1);
  const mouthAlpha = Float32Array.from({ length: n }, () => (random() < 0.01 ? random() : 0));
  const backgrounds = Array.from({ length: B }, () =>
    Uint8Array.from({ length: H * W * 3 }, () => Math.floor(random() * 256)),
  );
  for (const radius of [6, 0]) {
    const run = (device: DeviceKind) => {
      const out = Tensor.from(device, 'f32', [B, H, W, 3], new Float32Array(n * 3).fill(Number.NaN));
      composite(
        {
          faceRgb: Tensor.from(device, 'f32', [B, H, W, 3], faceRgb),
          faceAlpha: Tensor.from(device, 'f32', [B, H, W], faceAlpha),
          mouthRgb: Tensor.from(device, 'f32', [B, H, W, 3], mouthRgb),
          mouthAlpha: Tensor.from(device, 'f32', [B, H, W], mouthAlpha),
          backgrounds: backgrounds.map((bg) => Tensor.from(device, 'u8', [H, W, 3], bg)),
          scratch: Tensor.zeros(device, 'f32', [B, H, W]),
        },
        radius,
        out,
      );
      return out.read();
    };
    const error = maxRelError(run('cuda'), run('cpu'));
    assert.ok(error < 1e-6, `radius ${radius}: max error ${error}`);
  }
});
