// CUDA vs CPU parity of the AudioNet and AudioAttNet backward passes (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AudioAttNet, AudioNet } from '../../ops/audio-net.js';
import { Tensor } from '../../tensor.js';
import { gradError } from '../gradcheck.js';
import { rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

// A training batch's shape: 5 attention frames per image, 4 images; segments 0 and 2 are one identity sharing
// weight and gradient tensors (atomics from both add into one buffer).
const rowCounts = [5, 0, 10, 5];
const identity = [0, 1, 0, 2];
const rows = rowCounts.reduce((a, b) => a + b, 0);

function run<N extends AudioNet | AudioAttNet>(
  device: 'cpu' | 'cuda',
  net: N,
  input: { shape: number[]; data: Float32Array },
  gradOut: Float32Array,
  weights: Float32Array[],
) {
  const P = net.paramCount;
  const w = weights.map((x) => Tensor.from(device, 'f32', [P], x));
  const g = weights.map(() => Tensor.zeros(device, 'f32', [P]));
  const gradIn = Tensor.from(device, 'f32', input.shape, new Float32Array(input.data.length).fill(Number.NaN));
  const x = Tensor.from(device, 'f32', input.shape, input.data);
  const dy = Tensor.from(device, 'f32', [rows, net.codeDim], gradOut);
  const pick = <T>(list: T[]) => identity.map((i) => list[i] as T);
  net.backward(rowCounts, x, pick(w), dy, pick(g), gradIn);
  return { weights: g.map((t) => t.read()), input: gradIn.read() };
}

test('AudioNet and AudioAttNet backward: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(29);
  const audio = new AudioNet({ featureDim: 80, window: 16, codeDim: 32 });
  const windows = { shape: [rows, 16, 80], data: uniform(random, rows * 16 * 80) };
  const att = new AudioAttNet({ attentionBefore: 4, attentionAfter: 3, codeDim: 32 });
  const codes = { shape: [rows, att.frames, 32], data: uniform(random, rows * att.frames * 32) };
  for (const [name, net, input] of [
    ['AudioNet', audio, windows],
    ['AudioAttNet', att, codes],
  ] as const) {
    const weights = [0, 1, 2].map(() => uniform(random, net.paramCount, -0.3, 0.3));
    const gradOut = uniform(random, rows * 32);
    const cuda = run('cuda', net, input, gradOut, weights);
    const cpu = run('cpu', net, input, gradOut, weights);
    cuda.weights.forEach((got, i) => {
      const error = gradError(got, cpu.weights[i] as Float32Array);
      assert.ok(error < 1e-5, `${name} weights ${i}: error ${error}`);
    });
    const error = gradError(cuda.input, cpu.input);
    assert.ok(error < 1e-5, `${name} input: error ${error}`);
  }
});
