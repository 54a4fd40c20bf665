// CUDA vs CPU parity of the tri-plane hashgrid backward (run on a GPU machine: npm run test:gpu).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TriplaneHashgrid } from '../../ops/triplane-hashgrid.js';
import { Tensor } from '../../tensor.js';
import { gradError } from '../gradcheck.js';
import { rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('tri-plane hashgrid backward: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(19);
  for (const config of [
    { levels: 12, features: 1, log2Table: 17, baseResolution: 16, maxResolution: 256, bound: 0.15 },
    { levels: 12, features: 2, log2Table: 14, baseResolution: 64, maxResolution: 384, bound: 0.15 },
  ]) {
    const grid = new TriplaneHashgrid(config);
    const P = grid.paramCount;
    const dim = grid.outputDim;
    // Segments 0 and 2 are one identity: their rows add into one table gradient.
    const rowCounts = [40000, 8000, 1];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const xyz = uniform(random, rows * 3, -0.2, 0.2);
    const gradOut = uniform(random, rows * dim);
    const tables = [0, 1].map(() => uniform(random, P));
    const base = [0, 1].map(() => uniform(random, P));
    const identity = [0, 1, 0];
    const run = (device: 'cpu' | 'cuda') => {
      const t = tables.map((x) => Tensor.from(device, 'f32', [P], x));
      const g = base.map((x) => Tensor.from(device, 'f32', [P], x));
      const gradXyz = Tensor.from(device, 'f32', [rows, 3], new Float32Array(rows * 3).fill(Number.NaN));
      grid.backward(
        rowCounts,
        Tensor.from(device, 'f32', [rows, 3], xyz),
        identity.map((i) => t[i] as Tensor<'f32'>),
        Tensor.from(device, 'f32', [rows, dim], gradOut),
        identity.map((i) => g[i] as Tensor<'f32'>),
        gradXyz,
      );
      return { tables: g.map((x) => x.read()), xyz: gradXyz.read() };
    };
    const cuda = run('cuda');
    const cpu = run('cpu');
    // Table sums run in another order (atomics); the scatter weights are continuous across cells.
    cuda.tables.forEach((got, i) => {
      const error = gradError(got, cpu.tables[i] as Float32Array);
      assert.ok(error < 1e-4, `${JSON.stringify(config)} tables ${i}: error ${error}`);
    });
    // The position gradient jumps between grid cells, and the compilers' rounding (FMA, fast division) may put a
    // point lying within an ulp of a cell edge into the neighbouring cell: allow such rare rows, nothing more.
    let scale = 0;
    for (const v of cpu.xyz) scale = Math.max(scale, Math.abs(v));
    let off = 0;
    for (let i = 0; i < cuda.xyz.length; i++)
      if (!(Math.abs((cuda.xyz[i] as number) - (cpu.xyz[i] as number)) <= 1e-4 * scale)) off++;
    assert.ok(off <= cuda.xyz.length * 0.01, `${JSON.stringify(config)} xyz: ${off} of ${cuda.xyz.length} differ`);
  }
});
