// The motion prior file (`splatcast pretrain` writes it, `splatcast adapt` starts from it): the Universal Motion
// Field of both branches and the audio encoders, identity-free, as one safetensors file whose metadata carries the
// model config (the tensor shapes and the audio layout the server must stream with) and the provenance.
import { readFile, rename, rm } from 'node:fs/promises';
import { modelConfigSchema } from '../identity/manifest.js';
import { writeDurably } from '../identity/package.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../identity/safetensors.js';
import { expectedTensorShapes, type TensorName } from '../identity/tensors.js';
import type { ModelConfig } from '../model/config.js';

export const PRIOR_FORMAT = 'splatcast-motion-prior-1';

/** What the prior holds: every network of the universal fields (not the aligners: those are per identity). */
export const PRIOR_TENSORS = [
  'face.motionGrid',
  'face.audioAttention',
  'face.expressionAttention',
  'face.expressionEncoder',
  'face.decoder',
  'mouth.motionGrid',
  'mouth.audioAttention',
  'mouth.decoder',
  'mouth.hookScaler',
  'audio.net',
  'audio.attention',
] as const satisfies readonly TensorName[];
export type PriorTensorName = (typeof PRIOR_TENSORS)[number];

export interface PriorProvenance {
  /** The pre-training videos (source file names and hashes): the people the prior has seen. */
  datasets: { name: string; sha256: string; frames: number }[];
  iterations: number;
  seconds: number;
  seed: number;
  trainingSize: number;
  createdAt: string;
}

export interface MotionPrior {
  model: ModelConfig;
  weights: Record<PriorTensorName, Float32Array>;
  provenance: PriorProvenance;
}

export class MotionPriorError extends Error {
  override name = 'MotionPriorError';
}

export async function saveMotionPrior(file: string, prior: MotionPrior): Promise<void> {
  const shapes = expectedTensorShapes(prior.model, { face: 0, mouth: 0 });
  const tensors = new Map<string, SafetensorsTensor>();
  for (const name of PRIOR_TENSORS) tensors.set(name, { dtype: 'F32', shape: shapes[name], data: prior.weights[name] });
  const bytes = encodeSafetensors(tensors, {
    format: PRIOR_FORMAT,
    model: JSON.stringify(prior.model),
    provenance: JSON.stringify(prior.provenance),
  });
  // A reader never sees half a file: write a sibling, then rename over.
  const temp = `${file}.tmp-${process.pid}`;
  await rm(temp, { force: true });
  try {
    await writeDurably(temp, bytes);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function loadMotionPrior(file: string): Promise<MotionPrior> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new MotionPriorError(`motion prior ${file}: cannot read it (${(error as Error).message})`);
  }
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    throw new MotionPriorError(`motion prior ${file}: not a safetensors file (${(error as Error).message})`);
  }
  const { tensors, metadata } = decoded;
  if (metadata.format !== PRIOR_FORMAT)
    throw new MotionPriorError(
      `motion prior ${file}: format is ${JSON.stringify(metadata.format ?? null)}, expected "${PRIOR_FORMAT}"`,
    );
  const json = (key: string): unknown => {
    try {
      return JSON.parse(metadata[key] ?? '');
    } catch {
      throw new MotionPriorError(`motion prior ${file}: metadata "${key}" is missing or not JSON`);
    }
  };
  const parsed = modelConfigSchema.safeParse(json('model'));
  if (!parsed.success)
    throw new MotionPriorError(`motion prior ${file}: its model config is invalid (${parsed.error.message})`);
  const model = parsed.data;
  const shapes = expectedTensorShapes(model, { face: 0, mouth: 0 });
  const weights = {} as Record<PriorTensorName, Float32Array>;
  for (const name of PRIOR_TENSORS) {
    const t = tensors.get(name);
    const size = shapes[name].reduce((a, b) => a * b, 1);
    if (t?.dtype !== 'F32' || t.data.length !== size)
      throw new MotionPriorError(`motion prior ${file}: tensor "${name}" is missing or not ${size} float32 values`);
    const data = t.data as Float32Array;
    if (!data.every(Number.isFinite)) throw new MotionPriorError(`motion prior ${file}: "${name}" holds NaN or Inf`);
    weights[name] = data;
  }
  return { model, weights, provenance: json('provenance') as PriorProvenance };
}
