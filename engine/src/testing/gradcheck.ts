// Gradient checks: central finite differences in float64 and an error measure that scales with the gradient.
import type { Tensor } from '../tensor.js';

/** (f(x + h e_i) - f(x - h e_i)) / 2h, restoring x[index]. */
export function centralDifference(f: () => number, x: Float64Array, index: number, h = 1e-6): number {
  const saved = x[index] as number;
  x[index] = saved + h;
  const up = f();
  x[index] = saved - h;
  const down = f();
  x[index] = saved;
  return (up - down) / (2 * h);
}

/**
 * max |got - expected| over the checked entries, relative to the largest |expected| of them (at least `floor`):
 * float32 gradients err in proportion to the terms summed, and those scale with the tensor's largest entries.
 */
export function gradError(got: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-3): number {
  if (got.length !== expected.length) throw new Error(`length ${got.length} != ${expected.length}`);
  let scale = floor;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i] as number));
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs((got[i] as number) - (expected[i] as number)) / scale;
    if (!(e <= worst)) worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
  }
  return worst;
}

/** `count` distinct indices of [0, n) in increasing order (all of them when n <= count), drawn from `random`. */
export function sampleIndices(random: () => number, n: number, count: number): number[] {
  if (n <= count) return [...Array(n).keys()];
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(random() * n));
  return [...picked].sort((a, b) => a - b);
}

/** The float32 values of a tensor as float64 (a reference's own copy, which finite differences perturb). */
export const float64Of = (t: Tensor<'f32'>): Float64Array => Float64Array.from(t.read());

/** Values at `indices`. */
export const pick = (a: ArrayLike<number>, indices: readonly number[]): number[] => indices.map((i) => a[i] as number);

/**
 * The derivative of `loss` along the unit direction of `grad` at `value`'s current contents (restored after), by
 * central differences at steps h and h / 3 combined by Richardson extrapolation (cancels the curvature term), with h
 * chosen to change the loss by about `relative` of `L0`. If `grad` is the true gradient, the result is its norm: end
 * to end checks of the training graph compare the two (float32 rendering rules out per-entry differences).
 */
export function derivativeAlong(
  loss: () => number,
  value: Tensor<'f32'>,
  grad: Float32Array,
  relative: number,
  L0: number,
): { norm: number; numeric: number; error: number } {
  const norm = Math.hypot(...grad);
  const base = value.read();
  const along = (h: number) => {
    value.write(base.map((v, i) => v + (h * (grad[i] as number)) / norm));
    const up = loss();
    value.write(base.map((v, i) => v - (h * (grad[i] as number)) / norm));
    const down = loss();
    value.write(base);
    return (up - down) / (2 * h);
  };
  const h = (relative * L0) / norm;
  const numeric = (9 * along(h / 3) - along(h)) / 8;
  return { norm, numeric, error: Math.abs(norm - numeric) / norm };
}
