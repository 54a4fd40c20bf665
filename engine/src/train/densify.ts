// Adaptive density control (3DGS): every few hundred iterations, Gaussians whose view-space positional gradient
// stayed large are grown (small ones cloned, large ones split in two), and transparent, huge or screen-filling
// ones are pruned. Works on host copies of one branch; returns the new set and, per new row, the old row whose
// optimiser moments it keeps (-1: new, zero moments), as 3DGS's densify_and_prune does.
import { shCoefficients } from '../model/config.js';
import { logit, normal, type Random, rawScale } from '../model/init.js';
import type { HostGaussians } from './model-params.js';

export interface DensifyConfig {
  /** Mean view-space gradient norm (NDC units) above which a Gaussian grows (3DGS 2e-4; InsTaG face 5e-4). */
  gradThreshold: number;
  /** Grown Gaussians whose largest scale is at most this (metres) are cloned, larger ones split. */
  denseScale: number;
  /** Gaussians less opaque than this are pruned. */
  minOpacity: number;
  /** Gaussians larger than this in world space (metres) are pruned. */
  maxWorldScale: number;
  /** Gaussians that covered more than this many pixels of radius are pruned (null: no screen-size pruning). */
  maxScreenRadius: number | null;
  /** No growth past this many Gaussians (pruning still runs). */
  maxGaussians: number;
}

export interface DensifyStats {
  /** Summed gradient norms, visible-view counts and largest screen radius per Gaussian, [n] each. */
  accum: Float32Array;
  count: Float32Array;
  maxRadii: Float32Array;
}

export interface DensifyResult {
  gaussians: HostGaussians;
  /** Per new row: the old row it continues, or -1. */
  carry: Int32Array;
  cloned: number;
  split: number;
  pruned: number;
}

const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Row widths of each attribute for an SH degree. */
export function attributeWidths(shDegree: number): Record<keyof HostGaussians, number> {
  return { xyz: 3, rotation: 4, scale: 3, opacity: 1, sh: shCoefficients(shDegree) * 3 };
}

export function densify(
  g: HostGaussians,
  stats: DensifyStats,
  config: DensifyConfig,
  shDegree: number,
  random: Random,
): DensifyResult {
  const n = g.opacity.length;
  const widths = attributeWidths(shDegree);
  const maxScale = (i: number) =>
    Math.max(
      softplus(g.scale[3 * i] as number),
      softplus(g.scale[3 * i + 1] as number),
      softplus(g.scale[3 * i + 2] as number),
    );
  const grow: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = stats.count[i] as number;
    if (c > 0 && (stats.accum[i] as number) / c >= config.gradThreshold) grow.push(i);
  }
  const room = Math.max(0, config.maxGaussians - n);
  // Under the cap, the steepest gradients grow first.
  if (grow.length > room) {
    const mean = (i: number) => (stats.accum[i] as number) / (stats.count[i] as number);
    grow.sort((a, b) => mean(b) - mean(a));
    grow.length = room;
  }
  const clone = grow.filter((i) => maxScale(i) <= config.denseScale);
  const split = grow.filter((i) => maxScale(i) > config.denseScale);
  const isSplit = new Uint8Array(n);
  for (const i of split) isSplit[i] = 1;
  const prune = (i: number, scale: number, opacity: number) =>
    sigmoid(opacity) < config.minOpacity ||
    scale > config.maxWorldScale ||
    (config.maxScreenRadius !== null && (stats.maxRadii[i] as number) > config.maxScreenRadius);

  // Rows of the result: kept originals (carry their moments), clones, then two children per split Gaussian.
  const rows: { from: number; fresh: boolean; xyz?: number[]; scale?: number[] }[] = [];
  let pruned = 0;
  for (let i = 0; i < n; i++) {
    if (isSplit[i]) continue;
    if (prune(i, maxScale(i), g.opacity[i] as number)) pruned++;
    else rows.push({ from: i, fresh: false });
  }
  for (const i of clone) rows.push({ from: i, fresh: true });
  for (const i of split) {
    const s = [0, 1, 2].map((k) => softplus(g.scale[3 * i + k] as number));
    const child = s.map((v) => v / 1.6); // 3DGS: scale / (0.8 * 2)
    for (let c = 0; c < 2; c++) {
      const local = s.map((v) => v * normal(random));
      const offset = rotate(g.rotation.subarray(4 * i, 4 * i + 4), local);
      rows.push({
        from: i,
        fresh: true,
        xyz: [0, 1, 2].map((k) => (g.xyz[3 * i + k] as number) + (offset[k] as number)),
        scale: child.map(rawScale),
      });
    }
  }

  const m = rows.length;
  const out: HostGaussians = {
    xyz: new Float32Array(m * 3),
    rotation: new Float32Array(m * 4),
    scale: new Float32Array(m * 3),
    opacity: new Float32Array(m),
    sh: new Float32Array(m * widths.sh),
  };
  const carry = new Int32Array(m);
  rows.forEach((r, j) => {
    for (const key of Object.keys(widths) as (keyof HostGaussians)[]) {
      const w = widths[key];
      out[key].set(g[key].subarray(r.from * w, (r.from + 1) * w), j * w);
    }
    if (r.xyz) out.xyz.set(r.xyz, 3 * j);
    if (r.scale) out.scale.set(r.scale, 3 * j);
    carry[j] = r.fresh ? -1 : r.from;
  });
  return { gaussians: out, carry, cloned: clone.length, split: split.length, pruned };
}

/** 3DGS's opacity reset: every opacity to at most `ceiling`, so that floaters must earn their opacity again. */
export function resetOpacity(opacity: Float32Array, ceiling = 0.01): Float32Array {
  const top = logit(ceiling);
  return opacity.map((o) => Math.min(o, top));
}

/** v rotated by the unit quaternion of q = (w, x, y, z) (normalised here). */
function rotate(q: ArrayLike<number>, v: number[]): number[] {
  const norm = Math.hypot(q[0] as number, q[1] as number, q[2] as number, q[3] as number) || 1;
  const [w, x, y, z] = [0, 1, 2, 3].map((k) => (q[k] as number) / norm) as [number, number, number, number];
  const [a, b, c] = v as [number, number, number];
  return [
    (1 - 2 * (y * y + z * z)) * a + 2 * (x * y - w * z) * b + 2 * (x * z + w * y) * c,
    2 * (x * y + w * z) * a + (1 - 2 * (x * x + z * z)) * b + 2 * (y * z - w * x) * c,
    2 * (x * z - w * y) * a + 2 * (y * z + w * x) * b + (1 - 2 * (x * x + y * y)) * c,
  ];
}
