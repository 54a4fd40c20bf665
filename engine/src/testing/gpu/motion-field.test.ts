// CUDA vs CPU parity of the fused face and mouth motion-field decoders (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultModelConfig } from '../../model/config.js';
import { FaceMotionField, MouthMotionField } from '../../ops/motion-field.js';
import { Tensor } from '../../tensor.js';
import { maxRelError, rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

type Device = 'cpu' | 'cuda';
// 48k rows in 4 segments: an empty one, a one-row one and partial last blocks.
const rowCounts = [30000, 0, 17999, 1];
const rows = rowCounts.reduce((a, b) => a + b, 0);
const B = rowCounts.length;

function weightsFor<K extends string>(random: () => number, paramCounts: Record<K, number>) {
  return Object.fromEntries(
    Object.entries<number>(paramCounts).map(([k, n]) => [k, rowCounts.map(() => uniform(random, n, -0.3, 0.3))]),
  ) as Record<K, Float32Array[]>;
}

const onDevice = <K extends string>(device: Device, weights: Record<K, Float32Array[]>) =>
  Object.fromEntries(
    Object.entries<Float32Array[]>(weights).map(([k, list]) => [
      k,
      list.map((w) => Tensor.from(device, 'f32', [w.length], w)),
    ]),
  ) as Record<K, Tensor<'f32'>[]>;

test('face motion field: CUDA matches CPU', () => {
  requireGpu();
  const model = defaultModelConfig();
  for (const bias of [false, true]) {
    const S = {
      ...model.face,
      decoder: { ...model.face.decoder, bias },
      audioAttention: { ...model.face.audioAttention, bias },
    };
    const field = new FaceMotionField(S);
    const random = rng(29);
    const h = uniform(random, rows * field.gridDim);
    const audio = uniform(random, B * field.codeDim);
    const expression = uniform(random, B * field.expressionDim);
    const weights = weightsFor(random, field.paramCounts);
    const run = (device: Device) => {
      const out = Tensor.from(
        device,
        'f32',
        [rows, field.outputDim],
        new Float32Array(rows * field.outputDim).fill(Number.NaN),
      );
      field.forward(
        rowCounts,
        Tensor.from(device, 'f32', [rows, field.gridDim], h),
        Tensor.from(device, 'f32', [B, field.codeDim], audio),
        Tensor.from(device, 'f32', [B, field.expressionDim], expression),
        onDevice(device, weights),
        out,
      );
      return out.read();
    };
    // Same float32 operations in the same order; the GPU fuses multiply-adds, a few ulps per sum.
    const error = maxRelError(run('cuda'), run('cpu'));
    assert.ok(error < 1e-5, `bias ${bias}: max error ${error}`);
  }
});

test('mouth motion field: CUDA matches CPU', () => {
  requireGpu();
  const field = new MouthMotionField(defaultModelConfig().mouth);
  const random = rng(31);
  const h = uniform(random, rows * field.gridDim);
  const audio = uniform(random, B * field.codeDim);
  const hook = uniform(random, B * 3, -2, 2);
  const weights = weightsFor(random, field.paramCounts);
  const run = (device: Device) => {
    const out = Tensor.from(device, 'f32', [rows, 3], new Float32Array(rows * 3).fill(Number.NaN));
    field.forward(
      rowCounts,
      Tensor.from(device, 'f32', [rows, field.gridDim], h),
      Tensor.from(device, 'f32', [B, field.codeDim], audio),
      Tensor.from(device, 'f32', [B, 3], hook),
      onDevice(device, weights),
      out,
    );
    return out.read();
  };
  // The sigmoid gate's exp uses the fast GPU intrinsic: a few ulps more than the CPU's expf.
  const error = maxRelError(run('cuda'), run('cpu'));
  assert.ok(error < 1e-5, `max error ${error}`);
});
