// CUDA vs CPU parity of the I420 conversion (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { i420Size, rgbToI420 } from '../../ops/i420.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('rgbToI420: CUDA matches CPU on 4 frames of 512x512', () => {
  requireGpu();
  const random = rng(80);
  const [B, H, W] = [4, 512, 512];
  const rgb = uniform(random, B * H * W * 3, -0.05, 1.05);
  for (const range of ['limited', 'full'] as const) {
    const run = (device: DeviceKind) => {
      const out = Tensor.zeros(device, 'u8', [B, i420Size(W, H)]);
      rgbToI420(Tensor.from(device, 'f32', [B, H, W, 3], rgb), out, range);
      return out.read();
    };
    const [cpu, cuda] = [run('cpu'), run('cuda')];
    // Fused multiply-adds on the GPU may round a sample sitting on a .5 boundary the other way.
    let off = 0;
    for (let i = 0; i < cpu.length; i++) {
      const d = Math.abs((cpu[i] as number) - (cuda[i] as number));
      assert.ok(d <= 1, `${range}: sample ${i} differs by ${d}`);
      if (d) off++;
    }
    assert.ok(off <= cpu.length * 1e-3, `${range}: ${off} of ${cpu.length} samples differ by one`);
  }
});
