// One identity's training checkpoint: everything a run needs to continue exactly where it stopped (parameters, the
// stage's optimiser moments and step, the density-control statistics), stored by checkpoint-store.ts.
import type { SafetensorsTensor } from '../identity/safetensors.js';
import { expectedTensorShapes, type IdentityWeights, TENSOR_NAMES } from '../identity/tensors.js';
import type { ModelConfig } from '../model/config.js';
import { CheckpointError, readNewestCheckpoint, writeCheckpoint } from './checkpoint-store.js';
import type { GaussianCounts } from './model-params.js';

export { CheckpointError };

export interface CheckpointState {
  /** Identifies the run a checkpoint belongs to (dataset, size, model, schedule, seed): a mismatch is not resumed. */
  fingerprint: string;
  stage: number;
  /** Iterations of that stage completed. */
  iteration: number;
  /** Iterations of all stages completed (orders checkpoints). */
  done: number;
  gaussians: GaussianCounts;
  adamStep: number;
  /** Seconds of training before this checkpoint (wall time across restarts). */
  seconds: number;
}

export interface Checkpoint {
  state: CheckpointState;
  weights: IdentityWeights;
  /** Optimiser moments per trained group. */
  moments: Record<string, { m: Float32Array; v: Float32Array }>;
  /** Density-control statistics of the densified branch, when the stage has one. */
  stats: { accum: Float32Array; count: Float32Array; maxRadii: Float32Array } | null;
}

export async function saveCheckpoint(dir: string, model: ModelConfig, c: Checkpoint): Promise<string> {
  const shapes = expectedTensorShapes(model, c.state.gaussians);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const name of TENSOR_NAMES)
    tensors.set(`param/${name}`, { dtype: 'F32', shape: shapes[name], data: c.weights[name] });
  for (const [name, { m, v }] of Object.entries(c.moments)) {
    tensors.set(`adam.m/${name}`, { dtype: 'F32', shape: [m.length], data: m });
    tensors.set(`adam.v/${name}`, { dtype: 'F32', shape: [v.length], data: v });
  }
  if (c.stats)
    for (const key of ['accum', 'count', 'maxRadii'] as const)
      tensors.set(`stats/${key}`, { dtype: 'F32', shape: [c.stats[key].length], data: c.stats[key] });
  return writeCheckpoint(dir, c.state, tensors);
}

/**
 * The newest readable checkpoint in `dir` whose fingerprint matches, or null. A damaged one (truncated, wrong shapes)
 * is skipped in favour of the one before it; `onSkip` hears why.
 */
export async function loadLatestCheckpoint(
  dir: string,
  model: ModelConfig,
  fingerprint: string,
  onSkip: (name: string, why: string) => void = () => {},
): Promise<Checkpoint | null> {
  return readNewestCheckpoint(
    dir,
    fingerprint,
    (state, tensors) => decode(state as CheckpointState, tensors, model),
    onSkip,
  );
}

/** Optimiser moments stored under `adam.m/<prefix><name>` and `adam.v/...`, by name without the prefix. */
export function momentsOf(
  tensors: Map<string, SafetensorsTensor>,
  prefix = '',
): Record<string, { m: Float32Array; v: Float32Array }> {
  const moments: Record<string, { m: Float32Array; v: Float32Array }> = {};
  for (const [key, t] of tensors) {
    if (!key.startsWith(`adam.m/${prefix}`)) continue;
    const name = key.slice(`adam.m/${prefix}`.length);
    const v = tensors.get(`adam.v/${prefix}${name}`);
    if (!v || v.data.length !== t.data.length)
      throw new CheckpointError(`optimiser moments of "${prefix}${name}" are incomplete`);
    moments[name] = { m: t.data as Float32Array, v: v.data as Float32Array };
  }
  return moments;
}

function decode(state: CheckpointState, tensors: Map<string, SafetensorsTensor>, model: ModelConfig): Checkpoint {
  const shapes = expectedTensorShapes(model, state.gaussians);
  const weights = {} as IdentityWeights;
  for (const name of TENSOR_NAMES) {
    const t = tensors.get(`param/${name}`);
    const size = shapes[name].reduce((a, b) => a * b, 1);
    if (t?.dtype !== 'F32' || t.data.length !== size)
      throw new CheckpointError(`tensor "${name}" is missing or has the wrong size (want ${size} values)`);
    weights[name] = t.data as Float32Array;
  }
  const stat = (key: string) => tensors.get(`stats/${key}`)?.data as Float32Array | undefined;
  const [accum, count, maxRadii] = [stat('accum'), stat('count'), stat('maxRadii')];
  const stats = accum && count && maxRadii ? { accum, count, maxRadii } : null;
  return { state, weights, moments: momentsOf(tensors), stats };
}
