// CUDA vs CPU parity of the Negative Contrast Loss and axpy (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axpy } from '../../ops/axpy.js';
import { contrastLoss } from '../../ops/contrast-loss.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { maxRelError, rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('contrastLoss and axpy: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(72);
  const n = 40000;
  const a = uniform(random, n * 11);
  const b = uniform(random, n * 3);
  const run = (device: DeviceKind) => {
    const loss = Tensor.zeros(device, 'f32', [1]);
    const gradA = Tensor.zeros(device, 'f32', [n, 11]);
    const gradB = Tensor.zeros(device, 'f32', [n, 3]);
    contrastLoss(Tensor.from(device, 'f32', [n, 11], a), Tensor.from(device, 'f32', [n, 3], b), 1, loss, gradA, gradB);
    const y = Tensor.from(device, 'f32', [n, 3], b);
    axpy(-0.5, gradB, y);
    return { loss: loss.read(), gradA: gradA.read(), gradB: gradB.read(), y: y.read() };
  };
  const [cuda, cpu] = [run('cuda'), run('cpu')];
  // The loss is a float32 atomic sum on the GPU and a float64 sum on the CPU: close, not equal.
  assert.ok(maxRelError(cuda.loss, cpu.loss) < 1e-4, `loss ${cuda.loss[0]} vs ${cpu.loss[0]}`);
  // Per-row gradients: the same products; only weight / n may round differently (fast-math division).
  assert.ok(maxRelError(cuda.gradA, cpu.gradA) < 1e-6);
  assert.ok(maxRelError(cuda.gradB, cpu.gradB) < 1e-6);
  assert.ok(maxRelError(cuda.y, cpu.y) < 1e-7);
});
