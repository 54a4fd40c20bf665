// The dataset's audio: the speech resampled to 16 kHz mono, aligned with frame 0 and exactly as long as the frames
// (640 samples per 25-fps frame), saved as a float WAV, and its log-mel features as the server computes them.
import { writeFile } from 'node:fs/promises';
import { VIDEO_FPS } from '../audio/feature-window.js';
import { LogMelStream, MEL_BANDS, SAMPLE_RATE } from '../audio/log-mel.js';
import { resample } from '../audio/resample.js';
import { encodeSafetensors } from '../identity/safetensors.js';

export const SAMPLES_PER_FRAME = SAMPLE_RATE / VIDEO_FPS;
export const LOG_MEL_TENSOR = 'log_mel';

/**
 * 16-kHz mono speech for `frames` video frames: resampled with the engine's resampler (as served audio is), shifted
 * by the audio track's start offset (silence where the audio starts late), then cut or zero-padded to length.
 */
export function alignSpeech(mono: Float32Array, rate: number, offsetSeconds: number, frames: number): Float32Array {
  const speech = resample(mono, rate, SAMPLE_RATE);
  const out = new Float32Array(frames * SAMPLES_PER_FRAME);
  const shift = Math.round(offsetSeconds * SAMPLE_RATE);
  const from = Math.max(0, -shift);
  out.set(speech.subarray(from, from + out.length - Math.max(0, shift)), Math.max(0, shift));
  return out;
}

/** [steps, MEL_BANDS] log-mel features of the whole signal, steps = ceil(samples / 320). */
export function logMelFeatures(speech: Float32Array): { features: Float32Array; steps: number } {
  const stream = new LogMelStream();
  stream.push(speech);
  stream.end();
  const features = stream.pull();
  return { features, steps: features.length / MEL_BANDS };
}

/** 32-bit float mono WAV (WAVE_FORMAT_IEEE_FLOAT). */
export function encodeFloatWav(samples: Float32Array, rate = SAMPLE_RATE): Buffer {
  const data = samples.length * 4;
  const out = Buffer.alloc(44 + data);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + data, 4);
  out.write('WAVEfmt ', 8, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(3, 20); // IEEE float
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 4, 28);
  out.writeUInt16LE(4, 32);
  out.writeUInt16LE(32, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) out.writeFloatLE(samples[i] as number, 44 + 4 * i);
  return out;
}

export async function writeLogMel(file: string, features: Float32Array, steps: number): Promise<void> {
  const tensors = new Map([[LOG_MEL_TENSOR, { dtype: 'F32' as const, shape: [steps, MEL_BANDS], data: features }]]);
  await writeFile(file, encodeSafetensors(tensors, { format: 'splatcast-log-mel', featureRate: '50' }));
}
