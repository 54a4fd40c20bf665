// CUDA vs CPU parity of the deformation backwards (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alignerApplyBackward,
  deformGaussiansBackward,
  FACE_DELTA_COLUMNS,
  gatherRowsBackward,
} from '../../ops/deform.js';
import { type DeviceKind, Tensor } from '../../tensor.js';
import { gradError } from '../gradcheck.js';
import { rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

// Segments 0 and 2 are one identity (same row count): their per-identity gradients add into shared tensors.
const rowCounts = [30000, 0, 30000, 1];
const identity = [0, 1, 0, 2];
const rows = rowCounts.reduce((a, b) => a + b, 0);
const sizes = [30000, 0, 1];

function check(name: string, cuda: Float32Array[], cpu: Float32Array[]) {
  cuda.forEach((got, i) => {
    // Elementwise arithmetic; shared rows add two terms in either order.
    const error = gradError(got, cpu[i] as Float32Array);
    assert.ok(error < 1e-5, `${name}[${i}]: error ${error}`);
  });
}

test('deformation backwards: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(31);
  const perIdentity = (width: number, lo = -1, hi = 1) => sizes.map((n) => uniform(random, n * width, lo, hi));
  const data = {
    gradRows: uniform(random, rows * 5),
    raw: uniform(random, rows * 6, -8, 8),
    gradQuery: uniform(random, rows * 3),
    gradTau: uniform(random, rows * 3),
    deltas: uniform(random, rows * 11, -2, 2),
    tau: uniform(random, rows * 3, 0.75, 1.25),
    gradMeans: uniform(random, rows * 3),
    gradRotations: uniform(random, rows * 4),
    gradScales: uniform(random, rows * 3),
    gradDisplacement: uniform(random, rows * 3),
    rotations: perIdentity(4),
    scales: perIdentity(3, -30, 30),
    base3: perIdentity(3),
    base4: perIdentity(4),
    base5: perIdentity(5),
  };
  const run = (device: DeviceKind) => {
    const t = (shape: number[], x: Float32Array) => Tensor.from(device, 'f32', shape, x);
    const perSegment = (list: Float32Array[], width: number) => {
      const owned = list.map((x, i) => t([sizes[i] as number, width], x));
      return { owned, bySegment: identity.map((i) => owned[i] as Tensor<'f32'>) };
    };
    const sources = perSegment(data.base5, 5);
    gatherRowsBackward(rowCounts, t([rows, 5], data.gradRows), sources.bySegment);
    const alignerMeans = perSegment(data.base3, 3);
    const gradRaw = t([rows, 6], new Float32Array(rows * 6).fill(Number.NaN));
    alignerApplyBackward(
      rowCounts,
      t([rows, 6], data.raw),
      { query: t([rows, 3], data.gradQuery), tau: t([rows, 3], data.gradTau) },
      gradRaw,
      alignerMeans.bySegment,
    );
    const rotations = perSegment(data.rotations, 4);
    const scales = perSegment(data.scales, 3);
    const gradBases = {
      means: perSegment(data.base3, 3),
      rotations: perSegment(data.base4, 4),
      scales: perSegment(data.base3, 3),
    };
    const gradDeltas = t([rows, 11], new Float32Array(rows * 11).fill(Number.NaN));
    const gradTau = t([rows, 3], new Float32Array(rows * 3).fill(Number.NaN));
    deformGaussiansBackward(
      rowCounts,
      { means: rotations.bySegment, rotations: rotations.bySegment, scales: scales.bySegment },
      t([rows, 11], data.deltas),
      FACE_DELTA_COLUMNS,
      t([rows, 3], data.tau),
      0.01,
      {
        means: t([rows, 3], data.gradMeans),
        rotations: t([rows, 4], data.gradRotations),
        scales: t([rows, 3], data.gradScales),
        displacement: t([rows, 3], data.gradDisplacement),
      },
      gradDeltas,
      gradTau,
      {
        means: gradBases.means.bySegment,
        rotations: gradBases.rotations.bySegment,
        scales: gradBases.scales.bySegment,
      },
    );
    const read = (list: Tensor<'f32'>[]) => list.map((x) => x.read());
    return {
      sources: read(sources.owned),
      alignerMeans: read(alignerMeans.owned),
      gradRaw: [gradRaw.read()],
      gradDeltas: [gradDeltas.read()],
      gradTau: [gradTau.read()],
      baseMeans: read(gradBases.means.owned),
      baseRotations: read(gradBases.rotations.owned),
      baseScales: read(gradBases.scales.owned),
    };
  };
  const cuda = run('cuda');
  const cpu = run('cpu');
  for (const [name, list] of Object.entries(cuda)) check(name, list, cpu[name as keyof typeof cpu]);
});
