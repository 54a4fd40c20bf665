// CUDA vs CPU parity of AudioNet and AudioAttNet (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AudioAttNet, AudioNet } from '../../ops/audio-net.js';
import { Tensor } from '../../tensor.js';
import { maxRelError, rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

type Device = 'cpu' | 'cuda';

function parity(
  rowCounts: number[],
  inputShape: number[],
  paramCount: number,
  outWidth: number,
  forward: (rowCounts: number[], input: Tensor<'f32'>, weights: Tensor<'f32'>[], out: Tensor<'f32'>) => void,
  seed: number,
): number {
  const random = rng(seed);
  const rows = rowCounts.reduce((a, b) => a + b, 0);
  const input = uniform(
    random,
    inputShape.reduce((a, b) => a * b, 1),
  );
  const weights = rowCounts.map(() => uniform(random, paramCount, -0.2, 0.2));
  const run = (device: Device) => {
    const out = Tensor.from(device, 'f32', [rows, outWidth], new Float32Array(rows * outWidth).fill(Number.NaN));
    forward(
      rowCounts,
      Tensor.from(device, 'f32', inputShape, input),
      weights.map((w) => Tensor.from(device, 'f32', [paramCount], w)),
      out,
    );
    return out.read();
  };
  return maxRelError(run('cuda'), run('cpu'));
}

test('AudioNet: CUDA matches CPU', () => {
  requireGpu();
  // Mel features at 48k rows; HuBERT-sized features at fewer rows (the CPU side is slow there).
  const cases: [number, number[]][] = [
    [80, [20000, 0, 27999, 1]],
    [1024, [100, 0, 27, 1]],
  ];
  for (const [featureDim, rowCounts] of cases) {
    const net = new AudioNet({ featureDim, window: 16, codeDim: 32 });
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const error = parity(
      rowCounts,
      [rows, 16, featureDim],
      net.paramCount,
      32,
      (counts, input, weights, out) => net.forward(counts, input, weights, out),
      17,
    );
    // Same float32 operations in the same order; the GPU fuses multiply-adds, a few ulps per sum.
    assert.ok(error < 1e-5, `featureDim ${featureDim}: max error ${error}`);
  }
});

test('AudioAttNet: CUDA matches CPU', () => {
  requireGpu();
  for (const [before, after] of [
    [4, 3],
    [4, 0],
  ] as const) {
    const net = new AudioAttNet({ attentionBefore: before, attentionAfter: after, codeDim: 32 });
    const rowCounts = [20000, 0, 27999, 1];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const error = parity(
      rowCounts,
      [rows, net.frames, 32],
      net.paramCount,
      32,
      (counts, input, weights, out) => net.forward(counts, input, weights, out),
      19,
    );
    // The softmax's exp uses the fast GPU intrinsic (a few ulps more than the CPU's expf).
    assert.ok(error < 1e-5, `${net.frames} frames: max error ${error}`);
  }
});
