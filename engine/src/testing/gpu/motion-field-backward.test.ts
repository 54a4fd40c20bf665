// CUDA vs CPU parity of the motion-field backwards (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultModelConfig } from '../../model/config.js';
import { FaceMotionField, MouthMotionField } from '../../ops/motion-field.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { gradError } from '../gradcheck.js';
import { rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

// 48k rows in 4 segments (an empty one, a one-row one); segments 0 and 2 are one identity sharing weights and
// weight-gradient buffers.
const rowCounts = [30000, 0, 17999, 1];
const identity = [0, 1, 0, 2];
const rows = rowCounts.reduce((a, b) => a + b, 0);
const B = rowCounts.length;

type Nets = Record<string, number>;

// Per identity: weights and a random starting gradient (weight gradients accumulate).
function identities(random: () => number, paramCounts: Nets) {
  return Object.fromEntries(
    Object.entries(paramCounts).map(([k, n]) => [
      k,
      [0, 1, 2].map(() => ({ w: uniform(random, n, -0.3, 0.3), g: uniform(random, n) })),
    ]),
  ) as Record<string, { w: Float32Array; g: Float32Array }[]>;
}

function onDevice(device: DeviceKind, nets: ReturnType<typeof identities>) {
  const weights: Record<string, Tensor<'f32'>[]> = {};
  const grads: Record<string, Tensor<'f32'>[]> = {};
  const owned: Record<string, Tensor<'f32'>[]> = {};
  for (const [k, list] of Object.entries(nets)) {
    const w = list.map((x) => Tensor.from(device, 'f32', [x.w.length], x.w));
    owned[k] = list.map((x) => Tensor.from(device, 'f32', [x.g.length], x.g));
    weights[k] = identity.map((i) => w[i] as Tensor<'f32'>);
    grads[k] = identity.map((i) => owned[k]?.[i] as Tensor<'f32'>);
  }
  return {
    weights,
    grads,
    read: () => Object.fromEntries(Object.entries(owned).map(([k, l]) => [k, l.map((t) => t.read())])),
  };
}

const nanTensor = (device: DeviceKind, shape: number[]) =>
  Tensor.from(device, 'f32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));

function compare(name: string, cuda: Record<string, Float32Array[] | Float32Array>, cpu: typeof cuda) {
  for (const [k, got] of Object.entries(cuda)) {
    const list = Array.isArray(got) ? got : [got];
    const want = cpu[k];
    const wantList = Array.isArray(want) ? want : [want as Float32Array];
    list.forEach((g, i) => {
      // Sums over ~30k rows in another order (chunks vs blocks and atomics); h: per row, a few ulps per layer.
      const tolerance = k === 'h' ? 1e-4 : 1e-3;
      const error = gradError(g, wantList[i] as Float32Array);
      assert.ok(error < tolerance, `${name} ${k}[${i}]: error ${error}`);
    });
  }
}

test('face motion field backward: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(23);
  const field = new FaceMotionField(defaultModelConfig().face);
  const { gridDim: G, codeDim: C, expressionDim: E, outputDim } = field;
  const nets = identities(random, field.paramCounts);
  const h = uniform(random, rows * G);
  const audio = uniform(random, B * C);
  const expression = uniform(random, B * E);
  const gradOut = uniform(random, rows * outputDim);
  const run = (device: DeviceKind) => {
    const { weights, grads, read } = onDevice(device, nets);
    const gradH = nanTensor(device, [rows, G]);
    const gradAudio = nanTensor(device, [B, C]);
    const gradExpression = nanTensor(device, [B, E]);
    field.backward(
      rowCounts,
      Tensor.from(device, 'f32', [rows, G], h),
      Tensor.from(device, 'f32', [B, C], audio),
      Tensor.from(device, 'f32', [B, E], expression),
      weights as never,
      Tensor.from(device, 'f32', [rows, outputDim], gradOut),
      grads as never,
      { h: gradH, audio: gradAudio, expression: gradExpression },
    );
    return { ...read(), h: gradH.read(), audio: gradAudio.read(), expression: gradExpression.read() };
  };
  compare('face', run('cuda'), run('cpu'));
});

test('mouth motion field backward: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(29);
  const field = new MouthMotionField(defaultModelConfig().mouth);
  const { gridDim: G, codeDim: C } = field;
  const nets = identities(random, field.paramCounts);
  const h = uniform(random, rows * G);
  const audio = uniform(random, B * C);
  const hook = uniform(random, B * 3, -2, 2);
  const gradOut = uniform(random, rows * 3);
  const run = (device: DeviceKind) => {
    const { weights, grads, read } = onDevice(device, nets);
    const gradH = nanTensor(device, [rows, G]);
    const gradAudio = nanTensor(device, [B, C]);
    const gradHook = nanTensor(device, [B, 3]);
    field.backward(
      rowCounts,
      Tensor.from(device, 'f32', [rows, G], h),
      Tensor.from(device, 'f32', [B, C], audio),
      Tensor.from(device, 'f32', [B, 3], hook),
      weights as never,
      Tensor.from(device, 'f32', [rows, 3], gradOut),
      grads as never,
      { h: gradH, audio: gradAudio, hook: gradHook },
    );
    return { ...read(), h: gradH.read(), audio: gradAudio.read(), hook: gradHook.read() };
  };
  compare('mouth', run('cuda'), run('cpu'));
});
