// CUDA vs CPU parity of the hook features (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hookFeatures } from '../../ops/hook.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { maxRelError, rng } from '../random.js';
import { requireGpu } from './gpu.js';

test('hookFeatures: CUDA matches CPU and is deterministic', () => {
  requireGpu();
  const random = rng(60);
  // 48k rows in 4 segments, plus segments with fewer rows than k, an odd count and none.
  const rowCounts = [20000, 12000, 9000, 7000, 5, 333, 0];
  const rows = rowCounts.reduce((a, b) => a + b, 0);
  // Row orders that stress the GPU's warp-wide candidate lists: quantised random values (many ties), ascending
  // and descending runs (every row a candidate for one cue) and a constant.
  const datasets: Record<string, (row: number) => number> = {
    'random with ties': () => Math.round((random() - 0.5) * 2000) * 1e-5,
    ascending: (row) => row * 1e-6,
    descending: (row) => -row * 1e-6,
    constant: () => 0.25,
  };
  for (const [name, value] of Object.entries(datasets)) {
    const displacement = new Float32Array(rows * 3);
    for (let row = 0; row < rows; row++) displacement[row * 3 + 1] = value(row);
    for (const k of [10, 1, 32]) {
      const run = (device: DeviceKind) => {
        const out = Tensor.from(
          device,
          'f32',
          [rowCounts.length, 3],
          new Float32Array(rowCounts.length * 3).fill(Number.NaN),
        );
        hookFeatures(rowCounts, Tensor.from(device, 'f32', [rows, 3], displacement), k, out);
        return out.read();
      };
      const cuda = run('cuda');
      assert.deepEqual(run('cuda'), cuda, `${name}, k ${k}: repeated CUDA runs agree bit for bit`);
      // Same values summed in the same order; only the final division may differ (fast-math).
      const error = maxRelError(cuda, run('cpu'));
      assert.ok(error < 1e-6, `${name}, k ${k}: max error ${error}`);
    }
  }
});
