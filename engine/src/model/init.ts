// Random starting values shared by the fixture generator and the trainer: PyTorch's default layer initialisation in
// the engine's MLP layout, and the activations' inverses (weights store scales before softplus, opacities before
// sigmoid).
import { type MlpShape, mlpParamCount } from './config.js';

export type Random = () => number;

/** A seeded generator (mulberry32): the same seed draws the same numbers on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RGB from the DC spherical-harmonics coefficient: rgb = 0.5 + SH_C0 * dc. */
export const SH_C0 = 0.28209479177387814;

export const between = (random: Random, lo: number, hi: number): number => lo + (hi - lo) * random();
/** A standard normal sample (Box-Muller). */
export const normal = (random: Random): number =>
  Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
/** Inverse softplus: the raw value whose softplus is s. */
export const rawScale = (s: number): number => (s > 20 ? s : Math.log(Math.expm1(s)));
export const logit = (p: number): number => Math.log(p / (1 - p));

/** U(-gain / sqrt(fanIn), gain / sqrt(fanIn)) into `out`: PyTorch's default for Linear and Conv1d layers. */
export function uniformFanIn(random: Random, out: Float32Array, fanIn: number, gain = 1): void {
  const bound = gain / Math.sqrt(fanIn);
  for (let i = 0; i < out.length; i++) out[i] = between(random, -bound, bound);
}

/**
 * An MLP's weights (per layer [out][in] then the bias), PyTorch-default; `lastGain` scales the output layer (0: the
 * network starts out outputting zero, so a correction network starts as no correction).
 */
export function mlpWeights(random: Random, shape: MlpShape, lastGain = 1): Float32Array {
  const w = new Float32Array(mlpParamCount(shape));
  const widths = [shape.input, ...shape.hidden, shape.output];
  let at = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const nIn = widths[l] as number;
    const nOut = widths[l + 1] as number;
    const size = nIn * nOut + (shape.bias ? nOut : 0);
    uniformFanIn(random, w.subarray(at, at + size), nIn, l + 2 === widths.length ? lastGain : 1);
    at += size;
  }
  return w;
}
