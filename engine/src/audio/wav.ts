// WAV (RIFF/WAVE) reader: integer PCM 8/16/24/32-bit and IEEE float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE,
// any channel count (mixed down to mono by averaging) and any rate (see resample.ts for 16 kHz).
import { MAX_RATE, MIN_RATE, resample } from './resample.js';

export interface WavAudio {
  sampleRate: number;
  /** Channels in the file (the samples are mixed down to mono). */
  channels: number;
  /** Mono samples in [-1, 1]. */
  samples: Float32Array;
}

export class WavError extends Error {
  override name = 'WavError';
}

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;
/** Streaming writers that cannot seek back leave the data size at 0 or 0xFFFFFFFF: the data then runs to the end. */
const UNKNOWN_SIZES = new Set([0, 0xffffffff]);

interface Format {
  code: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function readFormat(chunk: Buffer, fail: (problem: string) => never): Format {
  if (chunk.length < 16) fail(`fmt chunk is ${chunk.length} bytes, expected at least 16`);
  let code = chunk.readUInt16LE(0);
  const channels = chunk.readUInt16LE(2);
  const sampleRate = chunk.readUInt32LE(4);
  const blockAlign = chunk.readUInt16LE(12);
  const bits = chunk.readUInt16LE(14);
  if (code === EXTENSIBLE) {
    if (chunk.length < 26) fail(`extensible fmt chunk is ${chunk.length} bytes, expected at least 26`);
    code = chunk.readUInt16LE(24); // the sub-format GUID starts with the plain format code
  }
  const supported =
    (code === PCM && [8, 16, 24, 32].includes(bits)) || (code === IEEE_FLOAT && [32, 64].includes(bits));
  if (!supported)
    fail(
      `unsupported encoding (format code ${code}, ${bits} bits): expected PCM 8/16/24/32-bit or IEEE float 32/64-bit`,
    );
  if (channels < 1) fail('declares 0 channels');
  if (sampleRate < MIN_RATE || sampleRate > MAX_RATE)
    fail(`sample rate ${sampleRate} Hz is outside ${MIN_RATE}..${MAX_RATE}`);
  if (blockAlign !== (channels * bits) / 8)
    fail(`block align ${blockAlign} does not match ${channels} channels x ${bits} bits`);
  return { code, channels, sampleRate, blockAlign, bits };
}

function decodeSample(data: Buffer, at: number, f: Format): number {
  if (f.code === IEEE_FLOAT) return f.bits === 32 ? data.readFloatLE(at) : data.readDoubleLE(at);
  switch (f.bits) {
    case 8:
      return ((data[at] as number) - 128) / 128; // 8-bit WAV is unsigned
    case 16:
      return data.readInt16LE(at) / 32768;
    case 24:
      return data.readIntLE(at, 3) / 8388608;
    default:
      return data.readInt32LE(at) / 2147483648;
  }
}

/** Parses a WAV file; `name` labels errors. */
export function readWav(bytes: Uint8Array, name = 'WAV'): WavAudio {
  const fail = (problem: string): never => {
    throw new WavError(`${name}: ${problem}`);
  };
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (file.length < 12) fail(`${file.length} bytes is too short for a RIFF header`);
  if (file.toString('latin1', 0, 4) !== 'RIFF')
    fail(`not a RIFF file (starts with ${JSON.stringify(file.toString('latin1', 0, 4))})`);
  if (file.toString('latin1', 8, 12) !== 'WAVE') fail('RIFF file is not WAVE');
  let format: Format | undefined;
  let at = 12;
  while (at + 8 <= file.length) {
    const id = file.toString('latin1', at, at + 4);
    const declared = file.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'data') {
      if (!format) return fail('data chunk comes before any fmt chunk');
      const size = UNKNOWN_SIZES.has(declared)
        ? file.length - body - ((file.length - body) % format.blockAlign)
        : declared;
      if (body + size > file.length)
        fail(`data chunk declares ${size} bytes but only ${file.length - body} remain: the file is truncated`);
      if (size % format.blockAlign !== 0)
        fail(`data chunk size ${size} is not a whole number of ${format.blockAlign}-byte sample frames`);
      const data = file.subarray(body, body + size);
      const frames = size / format.blockAlign;
      const bytesPerSample = format.bits / 8;
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < format.channels; c++)
          sum += decodeSample(data, i * format.blockAlign + c * bytesPerSample, format);
        samples[i] = sum / format.channels;
      }
      return { sampleRate: format.sampleRate, channels: format.channels, samples };
    }
    if (body + declared > file.length)
      fail(`${JSON.stringify(id)} chunk declares ${declared} bytes but only ${file.length - body} remain: truncated`);
    if (id === 'fmt ') format = readFormat(file.subarray(body, body + declared), fail);
    at = body + declared + (declared % 2); // chunks are word-aligned
  }
  return fail(format ? 'no data chunk' : 'no fmt chunk');
}

/** Reads a WAV file and returns mono samples at 16 kHz. */
export function readWavAt16k(bytes: Uint8Array, name?: string): Float32Array {
  const wav = readWav(bytes, name);
  return resample(wav.samples, wav.sampleRate, 16000);
}
