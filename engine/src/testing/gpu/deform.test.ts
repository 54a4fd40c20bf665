// CUDA vs CPU parity of the deformation ops (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alignerApply,
  deformGaussians,
  FACE_DELTA_COLUMNS,
  gatherRows,
  MOUTH_DELTA_COLUMNS,
} from '../../ops/deform.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { maxRelError, rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

const rowCounts = [20000, 12000, 9000, 7000];
const rows = rowCounts.reduce((a, b) => a + b, 0);
const nanFilled = (device: DeviceKind, shape: number[]) =>
  Tensor.from(device, 'f32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));

test('gatherRows and alignerApply: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(50);
  const means = rowCounts.map((n) => uniform(random, n * 3, -0.1, 0.1));
  const raw = uniform(random, rows * 6, -8, 8);
  const run = (device: DeviceKind) => {
    const meanT = means.map((m, s) => Tensor.from(device, 'f32', [rowCounts[s] as number, 3], m));
    const gathered = nanFilled(device, [rows, 3]);
    const query = nanFilled(device, [rows, 3]);
    const tau = nanFilled(device, [rows, 3]);
    gatherRows(rowCounts, meanT, gathered);
    alignerApply(rowCounts, meanT, Tensor.from(device, 'f32', [rows, 6], raw), query, tau);
    return [gathered.read(), query.read(), tau.read()];
  };
  const [cpu, cuda] = [run('cpu'), run('cuda')];
  assert.deepEqual(cuda[0], cpu[0]);
  for (const i of [1, 2]) {
    const error = maxRelError(cuda[i] as Float32Array, cpu[i] as Float32Array);
    assert.ok(error < 1e-5, `output ${i}: max error ${error}`);
  }
});

test('deformGaussians: CUDA matches CPU (face and mouth layouts)', () => {
  requireGpu();
  const random = rng(51);
  for (const [stride, columns, withTau] of [
    [11, FACE_DELTA_COLUMNS, true],
    [7, MOUTH_DELTA_COLUMNS, false],
  ] as const) {
    const means = rowCounts.map((n) => uniform(random, n * 3, -0.1, 0.1));
    const rotations = rowCounts.map((n) => uniform(random, n * 4));
    const scales = rowCounts.map((n) => uniform(random, n * 3, -12, 4));
    const deltas = uniform(random, rows * stride, -2, 2);
    const tau = uniform(random, rows * 3, 0.75, 1.25);
    const run = (device: DeviceKind) => {
      const perSegment = (data: Float32Array[], width: number) =>
        data.map((d, s) => Tensor.from(device, 'f32', [rowCounts[s] as number, width], d));
      const out = {
        means: nanFilled(device, [rows, 3]),
        rotations: nanFilled(device, [rows, 4]),
        scales: nanFilled(device, [rows, 3]),
        displacement: nanFilled(device, [rows, 3]),
      };
      deformGaussians(
        rowCounts,
        { means: perSegment(means, 3), rotations: perSegment(rotations, 4), scales: perSegment(scales, 3) },
        Tensor.from(device, 'f32', [rows, stride], deltas),
        columns,
        withTau ? Tensor.from(device, 'f32', [rows, 3], tau) : null,
        1e-2,
        out,
      );
      return [out.means.read(), out.rotations.read(), out.scales.read(), out.displacement.read()];
    };
    const [cpu, cuda] = [run('cpu'), run('cuda')];
    // Fast-math exp on the GPU (softplus) allows a few ulps.
    cpu.forEach((c, i) => {
      const error = maxRelError(cuda[i] as Float32Array, c);
      assert.ok(error < 1e-5, `stride ${stride} output ${i}: max error ${error}`);
    });
  }
});
