import t from 'tap';
import { type HashgridConfig, TriplaneHashgrid } from '../src/ops/triplane-hashgrid.js';
import { Tensor } from '../src/tensor.js';
import { centralDifference, gradError, pick, sampleIndices } from '../src/testing/gradcheck.js';
import { rng, uniform } from '../src/testing/random.js';

// Float64 encoder of native/src/ops/triplane_hashgrid.h; `used` collects the table entries a call reads.
function encode(c: HashgridConfig, table: ArrayLike<number>, p: ArrayLike<number>, used?: Set<number>): number[] {
  const growth = c.levels > 1 ? Math.exp((Math.log(c.maxResolution) - Math.log(c.baseResolution)) / (c.levels - 1)) : 1;
  const size = 2 ** c.log2Table;
  const levels = [...Array(c.levels).keys()].map((l) => {
    const scale = c.baseResolution * growth ** l - 1;
    const res = Math.ceil(scale) + 2;
    return { scale, res, entries: Math.min(res * res, size) };
  });
  const planeEntries = levels.reduce((a, l) => a + l.entries, 0);
  const u = [0, 1, 2].map((i) => Math.min(1, Math.max(0, ((p[i] as number) + c.bound) / (2 * c.bound))));
  const out: number[] = [];
  [
    [0, 1],
    [1, 2],
    [0, 2],
  ].forEach(([a, b], plane) => {
    let offset = plane * planeEntries;
    for (const level of levels) {
      const index = (x: number, y: number) => {
        const cx = Math.min(x, level.res - 1);
        const cy = Math.min(y, level.res - 1);
        if (level.res * level.res <= level.entries) return cy * level.res + cx;
        return Number((BigInt(cx) ^ ((BigInt(cy) * 2654435761n) & 0xffffffffn)) % BigInt(level.entries));
      };
      const pa = (u[a as number] as number) * level.scale + 0.5;
      const pb = (u[b as number] as number) * level.scale + 0.5;
      const ia = Math.floor(pa);
      const ib = Math.floor(pb);
      const wa = pa - ia;
      const wb = pb - ib;
      for (let f = 0; f < c.features; f++) {
        const v = (x: number, y: number) => {
          const k = (offset + index(x, y)) * c.features + f;
          used?.add(k);
          return table[k] as number;
        };
        out.push(
          (1 - wa) * (1 - wb) * v(ia, ib) +
            wa * (1 - wb) * v(ia + 1, ib) +
            (1 - wa) * wb * v(ia, ib + 1) +
            wa * wb * v(ia + 1, ib + 1),
        );
      }
      offset += level.entries;
    }
  });
  return out;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};
const cpu = (shape: number[], data: Float32Array) => Tensor.from('cpu', 'f32', shape, data);

const configs: Record<string, HashgridConfig> = {
  'face (dense levels)': { levels: 12, features: 1, log2Table: 17, baseResolution: 16, maxResolution: 39, bound: 0.15 },
  'mouth (hashed fine levels)': {
    levels: 6,
    features: 1,
    log2Table: 10,
    baseResolution: 16,
    maxResolution: 384,
    bound: 0.15,
  },
  'two features': { levels: 4, features: 2, log2Table: 10, baseResolution: 8, maxResolution: 64, bound: 1 },
};

for (const [name, config] of Object.entries(configs)) {
  t.test(`tri-plane hashgrid backward matches float64 finite differences: ${name}`, async (t) => {
    const random = rng(31);
    const grid = new TriplaneHashgrid(config);
    const P = grid.paramCount;
    const dim = grid.outputDim;
    const rowCounts = [7, 0, 40, 2];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    // A fifth of the coordinates lie past the bound, where the encoder clamps them (zero position gradient).
    const xyz = uniform(random, rows * 3, -1.25 * config.bound, 1.25 * config.bound);
    const tables = rowCounts.map(() => uniform(random, P));
    const gradOut = uniform(random, rows * dim);
    const base = rowCounts.map(() => uniform(random, P));
    const gradTables = base.map((b) => cpu([P], b));
    const gradXyz = cpu([rows, 3], new Float32Array(rows * 3).fill(Number.NaN));
    grid.backward(
      rowCounts,
      cpu([rows, 3], xyz),
      tables.map((tb) => cpu([P], tb)),
      cpu([rows, dim], gradOut),
      gradTables,
      gradXyz,
    );
    const xyz64 = Float64Array.from(xyz);
    const rowLoss = (table: ArrayLike<number>, row: number, used?: Set<number>) =>
      dot(
        gradOut.subarray(row * dim, (row + 1) * dim),
        encode(config, table, xyz64.subarray(row * 3, row * 3 + 3), used),
      );
    // Bilinear weights carry ~R 2^-24 of float32 rounding at resolution R (as in the forward test).
    const tolerance = 8 * config.maxResolution * 2 ** -24 + 1e-5;
    let first = 0;
    rowCounts.forEach((count, s) => {
      const table64 = Float64Array.from(tables[s] as Float32Array);
      const used = new Set<number>();
      const segmentLoss = () => {
        let loss = 0;
        for (let row = first; row < first + count; row++) loss += rowLoss(table64, row, used);
        return loss;
      };
      segmentLoss();
      // Every entry the rows read, plus entries they do not (whose gradient must stay zero).
      const at = [...new Set([...sampleIndices(random, P, 40), ...[...used].slice(0, 400)])].sort((a, b) => a - b);
      const got = (gradTables[s] as Tensor<'f32'>).read().map((g, i) => g - ((base[s] as Float32Array)[i] as number));
      const expected = at.map((i) => centralDifference(segmentLoss, table64, i));
      const error = gradError(pick(got, at), expected);
      t.ok(error < tolerance, `segment ${s} tables (${at.length} entries): error ${error}`);
      first += count;
    });
    // Position gradients: a step well inside one grid cell at the finest level.
    const gotXyz = gradXyz.read();
    const expectedXyz: number[] = [];
    let row = 0;
    rowCounts.forEach((count, s) => {
      for (let i = 0; i < count; i++, row++)
        for (let axis = 0; axis < 3; axis++) {
          const r = row;
          expectedXyz.push(centralDifference(() => rowLoss(tables[s] as Float32Array, r), xyz64, r * 3 + axis, 1e-9));
        }
    });
    const error = gradError(gotXyz, expectedXyz);
    t.ok(error < tolerance * 10, `xyz: error ${error}`);
    const clamped = [...xyz].flatMap((v, k) => (Math.abs(v) >= config.bound ? [k] : []));
    t.ok(clamped.length > 0 && clamped.every((k) => gotXyz[k] === 0), `zero along the ${clamped.length} clamped axes`);
  });
}

t.test('tri-plane hashgrid backward sums segments that share one table', async (t) => {
  const random = rng(8);
  const grid = new TriplaneHashgrid(configs['two features'] as HashgridConfig);
  const P = grid.paramCount;
  const rows = 50;
  const xyz = cpu([2 * rows, 3], uniform(random, 2 * rows * 3));
  const gradOut = cpu([2 * rows, grid.outputDim], uniform(random, 2 * rows * grid.outputDim));
  const table = cpu([P], uniform(random, P));
  const shared = Tensor.zeros('cpu', 'f32', [P]);
  grid.backward([rows, rows], xyz, [table, table], gradOut, [shared, shared], null);
  const separate = [Tensor.zeros('cpu', 'f32', [P]), Tensor.zeros('cpu', 'f32', [P])];
  grid.backward([rows, rows], xyz, [table, table], gradOut, separate, null);
  const a = separate[0]?.read() as Float32Array;
  const b = separate[1]?.read() as Float32Array;
  t.ok(
    gradError(
      shared.read(),
      a.map((v, i) => v + (b[i] as number)),
    ) < 1e-6,
    'shared table = sum of both segments',
  );
});

t.test('tri-plane hashgrid backward rejects bad arguments with clear errors', async (t) => {
  const grid = new TriplaneHashgrid(configs['two features'] as HashgridConfig);
  const xyz = Tensor.zeros('cpu', 'f32', [4, 3]);
  const table = Tensor.zeros('cpu', 'f32', [grid.paramCount]);
  const gradOut = Tensor.zeros('cpu', 'f32', [4, grid.outputDim]);
  const grad = Tensor.zeros('cpu', 'f32', [grid.paramCount]);
  t.throws(
    () => grid.backward([4], xyz, [table], Tensor.zeros('cpu', 'f32', [4, 3]), [grad], null),
    new RegExp(`gradOut must be f32\\[4,${grid.outputDim}\\], got cpu f32\\[4,3\\]`),
  );
  t.throws(() => grid.backward([4], xyz, [table], gradOut, [], null), /gradTables has 0 tensors for 1 segments/);
  t.throws(
    () => grid.backward([4], xyz, [table], gradOut, [grad], Tensor.zeros('cpu', 'f32', [3, 3])),
    /gradXyz must be f32\[4,3\], got cpu f32\[3,3\]/,
  );
});
