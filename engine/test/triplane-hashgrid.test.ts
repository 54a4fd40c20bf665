import t from 'tap';
import { type HashgridConfig, TriplaneHashgrid } from '../src/ops/triplane-hashgrid.js';
import { Tensor } from '../src/tensor.js';
import { maxRelError, rng, uniform } from '../src/testing/random.js';

// Straightforward float64 reference of the encoding documented in native/src/ops/triplane_hashgrid.h.
function reference(c: HashgridConfig, table: Float32Array, p: [number, number, number]): number[] {
  const growth = c.levels > 1 ? Math.exp((Math.log(c.maxResolution) - Math.log(c.baseResolution)) / (c.levels - 1)) : 1;
  const size = 2 ** c.log2Table;
  const levels = [...Array(c.levels).keys()].map((l) => {
    const scale = c.baseResolution * growth ** l - 1;
    const res = Math.ceil(scale) + 2;
    return { scale, res, entries: Math.min(res * res, size) };
  });
  const planeEntries = levels.reduce((a, l) => a + l.entries, 0);
  const u = p.map((v) => Math.min(1, Math.max(0, (v + c.bound) / (2 * c.bound))));
  const planes: [number, number][] = [
    [0, 1],
    [1, 2],
    [0, 2],
  ];
  const out: number[] = [];
  planes.forEach(([a, b], plane) => {
    let offset = plane * planeEntries;
    for (const level of levels) {
      const index = (x: number, y: number) => {
        const cx = Math.min(x, level.res - 1);
        const cy = Math.min(y, level.res - 1);
        if (level.res * level.res <= level.entries) return cy * level.res + cx;
        return Number((BigInt(cx) ^ ((BigInt(cy) * 2654435761n) & 0xffffffffn)) % BigInt(level.entries));
      };
      const pa = (u[a] as number) * level.scale + 0.5;
      const pb = (u[b] as number) * level.scale + 0.5;
      const ia = Math.floor(pa);
      const ib = Math.floor(pb);
      const wa = pa - ia;
      const wb = pb - ib;
      for (let f = 0; f < c.features; f++) {
        const v = (x: number, y: number) => table[(offset + index(x, y)) * c.features + f] as number;
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

const configs: Record<string, HashgridConfig> = {
  'face (official, dense)': {
    levels: 12,
    features: 1,
    log2Table: 17,
    baseResolution: 16,
    maxResolution: 39,
    bound: 0.15,
  },
  'mouth (paper, hashed fine levels)': {
    levels: 12,
    features: 1,
    log2Table: 14,
    baseResolution: 64,
    maxResolution: 384,
    bound: 0.15,
  },
  'two features': { levels: 4, features: 2, log2Table: 10, baseResolution: 8, maxResolution: 64, bound: 1 },
};

for (const [name, config] of Object.entries(configs)) {
  t.test(`tri-plane hashgrid matches the float64 reference: ${name}`, async (t) => {
    const random = rng(7);
    const grid = new TriplaneHashgrid(config);
    t.equal(grid.outputDim, 3 * config.levels * config.features);
    const rowCounts = [37, 0, 91];
    const rows = rowCounts.reduce((a, b) => a + b, 0);
    // Points spill past the bound to exercise clamping.
    const xyz = uniform(random, rows * 3, -1.3 * config.bound, 1.3 * config.bound);
    const tables = rowCounts.map(() => uniform(random, grid.paramCount));
    const xyzT = Tensor.from('cpu', 'f32', [rows, 3], xyz);
    const tableT = tables.map((tb) => Tensor.from('cpu', 'f32', [grid.paramCount], tb));
    const out = Tensor.from(
      'cpu',
      'f32',
      [rows, grid.outputDim],
      new Float32Array(rows * grid.outputDim).fill(Number.NaN),
    );
    grid.forward(rowCounts, xyzT, tableT, out);
    const got = out.read();
    const expected: number[] = [];
    let row = 0;
    rowCounts.forEach((count, s) => {
      for (let i = 0; i < count; i++, row++)
        expected.push(
          ...reference(
            config,
            tables[s] as Float32Array,
            [xyz[row * 3], xyz[row * 3 + 1], xyz[row * 3 + 2]] as [number, number, number],
          ),
        );
    });
    // float32 grid coordinates at resolution R carry about R * 2^-24 absolute error in the bilinear weights.
    const tolerance = 4 * config.maxResolution * 2 ** -24 + 1e-6;
    t.ok(maxRelError(got, expected) < tolerance, `max error ${maxRelError(got, expected)} (tolerance ${tolerance})`);
  });
}

t.test('tri-plane hashgrid rejects bad arguments with clear errors', async (t) => {
  const grid = new TriplaneHashgrid(configs['two features'] as HashgridConfig);
  const xyz = Tensor.zeros('cpu', 'f32', [4, 3]);
  const table = Tensor.zeros('cpu', 'f32', [grid.paramCount]);
  const out = Tensor.zeros('cpu', 'f32', [4, grid.outputDim]);
  t.throws(() => grid.forward([5], xyz, [table], out), /xyz must be f32\[5,3\]/);
  t.throws(() => grid.forward([4], xyz, [], out), /tables has 0 tensors for 1 segments/);
  t.throws(() => grid.forward([4], xyz, [Tensor.zeros('cpu', 'f32', [3])], out), /at least/);
  t.throws(() => new TriplaneHashgrid({ ...grid.config, levels: 40 }), /levels must be 1..16/);
  table.dispose();
  t.throws(() => grid.forward([4], xyz, [table], out), /was disposed/);
});
