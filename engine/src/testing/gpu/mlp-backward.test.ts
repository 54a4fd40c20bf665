// CUDA vs CPU parity of the MLP backward (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MlpShape } from '../../model/config.js';
import { Mlp } from '../../ops/mlp.js';
import { Tensor } from '../../tensor.js';
import { gradError } from '../gradcheck.js';
import { rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('MLP backward: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(17);
  const shapes: MlpShape[] = [
    { input: 74, hidden: [64, 64], output: 11, bias: false },
    { input: 36, hidden: [32], output: 6, bias: false },
    { input: 5, hidden: [7, 33], output: 1, bias: true },
    { input: 128, hidden: [128], output: 128, bias: true },
  ];
  for (const shape of shapes) {
    const mlp = new Mlp(shape);
    const P = mlp.paramCount;
    // 48k rows in 4 segments: an empty one, a one-row one, partial tiles; segments 0 and 2 are one identity and
    // share their weight and gradient tensors (atomics from both add into one buffer).
    const rowCounts = [30000, 0, 17999, 1];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const input = uniform(random, rows * shape.input);
    const gradOut = uniform(random, rows * shape.output);
    const weights = [0, 1, 2].map(() => uniform(random, P, -0.3, 0.3));
    const base = [0, 1, 2].map(() => uniform(random, P));
    const identity = [0, 1, 0, 2];
    const run = (device: 'cpu' | 'cuda') => {
      const w = weights.map((x) => Tensor.from(device, 'f32', [P], x));
      const g = base.map((x) => Tensor.from(device, 'f32', [P], x));
      const gradInput = Tensor.from(
        device,
        'f32',
        [rows, shape.input],
        new Float32Array(rows * shape.input).fill(Number.NaN),
      );
      mlp.backward(
        rowCounts,
        Tensor.from(device, 'f32', [rows, shape.input], input),
        identity.map((i) => w[i] as Tensor<'f32'>),
        Tensor.from(device, 'f32', [rows, shape.output], gradOut),
        identity.map((i) => g[i] as Tensor<'f32'>),
        gradInput,
      );
      return { weights: g.map((x) => x.read()), input: gradInput.read() };
    };
    const cuda = run('cuda');
    const cpu = run('cpu');
    // Weight gradients sum ~30k rows in a different order (chunks vs blocks and atomics): ~1e-5 of the largest.
    cuda.weights.forEach((got, i) => {
      const error = gradError(got, cpu.weights[i] as Float32Array);
      assert.ok(error < 1e-3, `${JSON.stringify(shape)} weights ${i}: error ${error}`);
    });
    const error = gradError(cuda.input, cpu.input);
    assert.ok(error < 1e-5, `${JSON.stringify(shape)} input: error ${error}`);
  }
});
