import t from 'tap';
import { logit, rawScale } from '../src/model/init.js';
import { rng } from '../src/testing/random.js';
import { attributeWidths, type DensifyConfig, densify, resetOpacity } from '../src/train/densify.js';
import type { HostGaussians } from '../src/train/model-params.js';

const config: DensifyConfig = {
  gradThreshold: 1e-3,
  denseScale: 0.002,
  minOpacity: 0.005,
  maxWorldScale: 0.05,
  maxScreenRadius: null,
  maxGaussians: 100,
};

/** Gaussians i = 0..n-1 at (i, 0, 0) with the given scales and opacities, SH degree 0, SH value = i. */
function gaussians(scales: number[], opacities: number[]): HostGaussians {
  const n = scales.length;
  const g: HostGaussians = {
    xyz: new Float32Array(n * 3),
    rotation: new Float32Array(n * 4),
    scale: new Float32Array(n * 3),
    opacity: Float32Array.from(opacities, logit),
    sh: new Float32Array(n * 3),
  };
  for (let i = 0; i < n; i++) {
    g.xyz[3 * i] = i;
    g.rotation[4 * i] = 1;
    g.scale.fill(rawScale(scales[i] as number), 3 * i, 3 * i + 3);
    g.sh.fill(i, 3 * i, 3 * i + 3);
  }
  return g;
}

const stats = (grads: number[], counts: number[], radii = grads.map(() => 1)) => ({
  accum: Float32Array.from(grads, (g, i) => g * (counts[i] as number)),
  count: Float32Array.from(counts),
  maxRadii: Float32Array.from(radii),
});

t.test('small Gaussians with steep gradients are cloned, large ones split, faint ones pruned', async (t) => {
  // 0: small, steep -> cloned; 1: large, steep -> split in two; 2: flat -> kept; 3: faint -> pruned;
  // 4: steep but never seen (count 0) -> kept.
  const g = gaussians([0.001, 0.01, 0.001, 0.001, 0.001], [0.5, 0.5, 0.5, 0.001, 0.5]);
  const r = densify(g, stats([2e-3, 2e-3, 1e-4, 1e-4, 5e-3], [4, 4, 4, 4, 0]), config, 0, rng(1));
  t.same([r.cloned, r.split, r.pruned], [1, 1, 1]);
  t.equal(r.gaussians.opacity.length, 6, '5 - 1 split - 1 pruned + 1 clone + 2 children');
  t.same(Array.from(r.carry), [0, 2, 4, -1, -1, -1], 'kept rows keep their moments; new ones start fresh');
  const sh = Array.from({ length: 6 }, (_, j) => r.gaussians.sh[3 * j]);
  t.same(sh, [0, 2, 4, 0, 1, 1], 'the clone copies Gaussian 0, both children Gaussian 1');
  const softplus = (x: number) => Math.log1p(Math.exp(x));
  for (const j of [4, 5]) {
    t.ok(Math.abs(softplus(r.gaussians.scale[3 * j] as number) - 0.01 / 1.6) < 1e-6, 'children are 1.6 times smaller');
    const offset = Math.hypot(
      (r.gaussians.xyz[3 * j] as number) - 1,
      r.gaussians.xyz[3 * j + 1] as number,
      r.gaussians.xyz[3 * j + 2] as number,
    );
    t.ok(offset > 0 && offset < 0.05, `a child sits within a few sigma of its parent (${offset.toFixed(4)} m)`);
  }
  for (const key of Object.keys(attributeWidths(0)) as (keyof HostGaussians)[])
    t.equal(r.gaussians[key].length, 6 * attributeWidths(0)[key], `${key} has one row per Gaussian`);
});

t.test('huge and screen-filling Gaussians are pruned; the cap stops growth, steepest first', async (t) => {
  const g = gaussians([0.1, 0.001, 0.001], [0.9, 0.9, 0.9]);
  const r = densify(g, stats([0, 0, 0], [1, 1, 1], [1, 500, 1]), { ...config, maxScreenRadius: 100 }, 0, rng(2));
  t.same(Array.from(r.carry), [2], 'too large in the world (0.1 m) and on screen (500 px) both go');
  const many = gaussians([0.001, 0.001, 0.001], [0.9, 0.9, 0.9]);
  const capped = densify(many, stats([2e-3, 9e-3, 5e-3], [1, 1, 1]), { ...config, maxGaussians: 4 }, 0, rng(3));
  t.equal(capped.cloned, 1, 'room for one more');
  t.equal(capped.gaussians.sh[9], 1, 'the steepest (Gaussian 1) grew');
});

t.test('opacity reset caps opacities at 0.01 and leaves lower ones', async (t) => {
  const out = resetOpacity(Float32Array.from([0.5, 0.001, 0.9].map(logit)));
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  t.same(
    Array.from(out, (v) => Number(sigmoid(v).toFixed(4))),
    [0.01, 0.001, 0.01],
  );
});
