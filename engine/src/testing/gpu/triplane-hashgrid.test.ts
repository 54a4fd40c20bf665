// CUDA vs CPU parity (run on a GPU machine: npm run test:gpu). Compiled with the engine so it runs with plain Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TriplaneHashgrid } from '../../ops/triplane-hashgrid.js';
import { Tensor } from '../../tensor.js';
import { maxRelError, rng, uniform } from '../random.js';
import { requireGpu } from './gpu.js';

test('tri-plane hashgrid: CUDA matches CPU', () => {
  requireGpu();
  const random = rng(11);
  for (const config of [
    { levels: 12, features: 1, log2Table: 17, baseResolution: 16, maxResolution: 256, bound: 0.15 },
    { levels: 12, features: 2, log2Table: 14, baseResolution: 64, maxResolution: 384, bound: 0.15 },
  ]) {
    const grid = new TriplaneHashgrid(config);
    const rowCounts = [40000, 8000, 1];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    const xyz = uniform(random, rows * 3, -0.2, 0.2);
    const tables = rowCounts.map(() => uniform(random, grid.paramCount));
    const run = (device: 'cpu' | 'cuda') => {
      const out = Tensor.from(
        device,
        'f32',
        [rows, grid.outputDim],
        new Float32Array(rows * grid.outputDim).fill(Number.NaN),
      );
      grid.forward(
        rowCounts,
        Tensor.from(device, 'f32', [rows, 3], xyz),
        tables.map((tb) => Tensor.from(device, 'f32', [grid.paramCount], tb)),
        out,
      );
      return out.read();
    };
    // Grid coordinates at resolution R carry about R * 2^-24 rounding; FMA contraction differs between the
    // compilers, so the bilinear weights may differ by a few such units (seen on an H100: 2.6e-5 at R = 384).
    const tolerance = 4 * config.maxResolution * 2 ** -24 + 1e-6;
    const error = maxRelError(run('cuda'), run('cpu'));
    assert.ok(error < tolerance, `max error ${error} (tolerance ${tolerance})`);
  }
});
