// An optional user-supplied audio encoder (`--audio-encoder model.onnx`), for example a wav2vec2 or HuBERT export:
// run once with onnxruntime-node on the whole 16-kHz track, its features stored next to the log-mel ones. The model
// must take one float32 input [batch, samples] (16-kHz mono waveform) and give, as its first output, float32
// [batch, steps, dim] or [steps, dim] at 50 steps per second (a 320-sample hop), the rate the audio window expects.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { encodeSafetensors } from '../identity/safetensors.js';
import { PrepareError } from './errors.js';

export const ENCODER_TENSOR = 'features';
/** Samples per feature step at 16 kHz (50 steps/s). */
const HOP = 320;
/** Steps the model may give beyond or short of `samples / 320` (convolutional front ends lose a step or two). */
const STEP_SLACK = 2;

export interface EncodedAudio {
  /** [steps, dim] row-major. */
  features: Float32Array;
  steps: number;
  dim: number;
  /** The model file's name and SHA-256. */
  model: string;
  sha256: string;
}

/**
 * Runs the encoder on `speech` and returns exactly `steps` rows (step j at sample 320 j, like the log-mel
 * features): a model that gives a step or two fewer has its last row repeated, one that gives more is cut.
 */
export async function encodeAudio(file: string, speech: Float32Array, steps: number): Promise<EncodedAudio> {
  const bytes = await readFile(file).catch(() => {
    throw new PrepareError(`cannot read the audio encoder ${file}`);
  });
  // Loaded only here: onnxruntime-node is a large native package that only user-supplied encoders need.
  const ort: typeof Ort = await import('onnxruntime-node');
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes);
  } catch (error) {
    throw new PrepareError(`${file} is not an ONNX model onnxruntime can load: ${(error as Error).message}`);
  }
  try {
    const [input] = session.inputMetadata;
    if (session.inputNames.length !== 1 || !input?.isTensor || input.type !== 'float32' || input.shape.length !== 2)
      throw new PrepareError(
        `the audio encoder ${file} must take one float32 input [batch, samples]; it takes ` +
          session.inputMetadata
            .map((m) => (m.isTensor ? `${m.name}: ${m.type} [${m.shape.join(', ')}]` : `${m.name}: not a tensor`))
            .join(', '),
      );
    let output: Ort.Tensor;
    try {
      const result = await session.run({ [input.name]: new ort.Tensor('float32', speech, [1, speech.length]) });
      output = result[session.outputNames[0] as string] as Ort.Tensor;
    } catch (error) {
      throw new PrepareError(
        `the audio encoder ${file} failed on ${speech.length} samples: ${(error as Error).message}`,
      );
    }
    const dims = output.dims;
    const batched = dims.length === 3 && dims[0] === 1;
    if (output.type !== 'float32' || !(batched || dims.length === 2))
      throw new PrepareError(
        `the audio encoder ${file} gave ${output.type} [${dims.join(', ')}]; expected float32 [1, steps, dim] or [steps, dim]`,
      );
    const [given, dim] = (batched ? dims.slice(1) : dims) as [number, number];
    if (Math.abs(given - speech.length / HOP) > STEP_SLACK || dim < 1)
      throw new PrepareError(
        `the audio encoder ${file} gave ${given} steps of ${dim} features for ${speech.length} samples ` +
          `(${((given * 16000) / speech.length).toFixed(1)} per second); expected 50 per second, a 320-sample hop at 16 kHz`,
      );
    const data = output.data as Float32Array;
    const features = new Float32Array(steps * dim);
    for (let j = 0; j < steps; j++) {
      const from = Math.min(j, given - 1) * dim;
      features.set(data.subarray(from, from + dim), j * dim);
    }
    return {
      features,
      steps,
      dim,
      model: path.basename(file),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  } finally {
    await session.release();
  }
}

export async function writeEncodedAudio(file: string, encoded: EncodedAudio): Promise<void> {
  const tensors = new Map([
    [ENCODER_TENSOR, { dtype: 'F32' as const, shape: [encoded.steps, encoded.dim], data: encoded.features }],
  ]);
  await writeFile(file, encodeSafetensors(tensors, { format: 'splatcast-audio-encoder', model: encoded.model }));
}
