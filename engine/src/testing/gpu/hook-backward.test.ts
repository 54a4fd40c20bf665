// CUDA vs CPU parity of the hook backward (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hookFeaturesBackward } from '../../ops/hook.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('hook backward: CUDA matches CPU, ties included', () => {
  requireGpu();
  const random = rng(37);
  const rowCounts = [48000, 0, 5, 20000, 33];
  const rows = rowCounts.reduce((a, b) => a + b, 0);
  // Values on a coarse grid, so many rows tie with the k-th value: the rows selected must match exactly.
  const displacement = uniform(random, rows * 3).map((v) => Math.round(v * 64) / 64);
  const gradOut = uniform(random, rowCounts.length * 3);
  for (const k of [1, 10, 32]) {
    const run = (device: DeviceKind) => {
      const grad = Tensor.from(device, 'f32', [rows, 3], new Float32Array(rows * 3).fill(Number.NaN));
      hookFeaturesBackward(
        rowCounts,
        Tensor.from(device, 'f32', [rows, 3], displacement),
        k,
        Tensor.from(device, 'f32', [rowCounts.length, 3], gradOut),
        grad,
      );
      return grad.read();
    };
    const cuda = run('cuda');
    const cpu = run('cpu');
    let differ = 0;
    for (let i = 0; i < cuda.length; i++) if (!(cuda[i] === cpu[i])) differ++;
    assert.equal(differ, 0, `k = ${k}: ${differ} values differ`);
  }
});
