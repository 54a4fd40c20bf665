// Training checkpoints: everything a run needs to continue exactly where it stopped (parameters, the stage's
// optimiser moments and step, the density-control statistics), written atomically (a temporary directory renamed
// into place) so a crash mid-write leaves the previous checkpoint intact. The newest two are kept.
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeDurably } from '../identity/package.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../identity/safetensors.js';
import { expectedTensorShapes, type IdentityWeights, TENSOR_NAMES } from '../identity/tensors.js';
import type { ModelConfig } from '../model/config.js';
import type { GaussianCounts } from './model-params.js';

const STATE_FILE = 'state.json';
const TENSORS_FILE = 'tensors.safetensors';
const PREFIX = 'checkpoint-';
const KEEP = 2;

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

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const dirName = (done: number) => `${PREFIX}${String(done).padStart(9, '0')}`;

export async function saveCheckpoint(dir: string, model: ModelConfig, c: Checkpoint): Promise<string> {
  await mkdir(dir, { recursive: true });
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
  const final = path.join(dir, dirName(c.state.done));
  const temp = `${final}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp);
  try {
    await writeDurably(path.join(temp, TENSORS_FILE), encodeSafetensors(tensors, { format: 'splatcast-checkpoint' }));
    await writeDurably(path.join(temp, STATE_FILE), `${JSON.stringify(c.state, null, 2)}\n`);
    await rm(final, { recursive: true, force: true });
    await rename(temp, final);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  const all = await listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - KEEP)))
    await rm(path.join(dir, old), { recursive: true, force: true });
  return final;
}

async function listCheckpoints(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(PREFIX) && !n.includes('.tmp-')).sort();
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
  for (const name of (await listCheckpoints(dir)).reverse()) {
    try {
      const c = await readCheckpoint(path.join(dir, name), model);
      if (c.state.fingerprint !== fingerprint) {
        onSkip(name, 'it belongs to another run (dataset, size, model, schedule or seed differ)');
        continue;
      }
      return c;
    } catch (error) {
      onSkip(name, (error as Error).message);
    }
  }
  return null;
}

async function readCheckpoint(dir: string, model: ModelConfig): Promise<Checkpoint> {
  let state: CheckpointState;
  try {
    state = JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as CheckpointState;
  } catch (error) {
    throw new CheckpointError(`${STATE_FILE} is missing or not JSON (${(error as Error).message})`);
  }
  const { tensors } = decodeSafetensors(await readFile(path.join(dir, TENSORS_FILE)));
  const shapes = expectedTensorShapes(model, state.gaussians);
  const weights = {} as IdentityWeights;
  for (const name of TENSOR_NAMES) {
    const t = tensors.get(`param/${name}`);
    const size = shapes[name].reduce((a, b) => a * b, 1);
    if (t?.dtype !== 'F32' || t.data.length !== size)
      throw new CheckpointError(`tensor "${name}" is missing or has the wrong size (want ${size} values)`);
    weights[name] = t.data as Float32Array;
  }
  const moments: Checkpoint['moments'] = {};
  for (const [key, t] of tensors) {
    if (!key.startsWith('adam.m/')) continue;
    const name = key.slice('adam.m/'.length);
    const v = tensors.get(`adam.v/${name}`);
    if (!v || v.data.length !== t.data.length)
      throw new CheckpointError(`optimiser moments of "${name}" are incomplete`);
    moments[name] = { m: t.data as Float32Array, v: v.data as Float32Array };
  }
  const stat = (key: string) => tensors.get(`stats/${key}`)?.data as Float32Array | undefined;
  const [accum, count, maxRadii] = [stat('accum'), stat('count'), stat('maxRadii')];
  const stats = accum && count && maxRadii ? { accum, count, maxRadii } : null;
  return { state, weights, moments, stats };
}
