// CUDA vs CPU parity of the MLP op (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MlpShape } from '../../model/config.js';
import { Mlp } from '../../ops/mlp.js';
import { Tensor } from '../../tensor.js';
import { maxRelError, rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('MLP: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(13);
  const shapes: MlpShape[] = [
    { input: 74, hidden: [64, 64], output: 11, bias: false },
    { input: 5, hidden: [7, 33], output: 1, bias: true },
    { input: 128, hidden: [128], output: 128, bias: true },
  ];
  for (const shape of shapes) {
    const mlp = new Mlp(shape);
    // 48k rows in 4 segments: an empty one, a one-row one and partial last blocks.
    const rowCounts = [30000, 0, 17999, 1];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const input = uniform(random, rows * shape.input);
    const weights = rowCounts.map(() => uniform(random, mlp.paramCount, -0.3, 0.3));
    const run = (device: 'cpu' | 'cuda') => {
      const out = Tensor.from(
        device,
        'f32',
        [rows, shape.output],
        new Float32Array(rows * shape.output).fill(Number.NaN),
      );
      mlp.forward(
        rowCounts,
        Tensor.from(device, 'f32', [rows, shape.input], input),
        weights.map((w) => Tensor.from(device, 'f32', [mlp.paramCount], w)),
        out,
      );
      return out.read();
    };
    // Same float32 operations in the same order; the GPU fuses multiply-adds, a few ulps per sum.
    const error = maxRelError(run('cuda'), run('cpu'));
    assert.ok(error < 1e-5, `${JSON.stringify(shape)}: max error ${error}`);
  }
});
