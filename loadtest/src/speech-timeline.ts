// The speech every simulated client sends: a WAV file (any rate, mono or stereo, 8-32 bit or float; read and
// resampled by wavefile), cut into utterances of `utteranceMs` with `gapMs` of silence after each, looped to the
// length of the run. The gaps give the speech clear onsets, and the onsets are where latency is measured.
import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { type OnsetDetectorOptions, onsetOffsets } from './onset-detector.js';

export interface Utterance {
  /** Sample range [start, end) of the timeline. */
  start: number;
  end: number;
}

export interface SpeechTimeline {
  sampleRate: number;
  signal: Float32Array;
  utterances: Utterance[];
  /** Onsets of the signal as the latency probe detects them, sample offsets. */
  onsets: number[];
}

export class SpeechFileError extends Error {
  override name = 'SpeechFileError';
}

/** Mono samples in [-1, 1] at `sampleRate` from a WAV file. */
export async function loadSpeech(file: string, sampleRate: number): Promise<Float32Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new SpeechFileError(`--audio ${file}: ${(error as Error).message}`);
  }
  let wav: InstanceType<typeof wavefile.WaveFile>;
  try {
    wav = new wavefile.WaveFile(bytes);
    wav.toBitDepth('32f');
    if ((wav.fmt as { sampleRate: number }).sampleRate !== sampleRate) wav.toSampleRate(sampleRate);
  } catch (error) {
    throw new SpeechFileError(`--audio ${file} is not a WAV file this tool reads: ${(error as Error).message}`);
  }
  const raw = wav.getSamples(false, Float32Array) as unknown as Float32Array | Float32Array[];
  const channels = Array.isArray(raw) ? raw : [raw];
  const length = channels[0]?.length ?? 0;
  if (length === 0) throw new SpeechFileError(`--audio ${file} holds no samples`);
  const mono = new Float32Array(length);
  for (const channel of channels)
    for (let i = 0; i < length; i++) mono[i] = (mono[i] as number) + (channel[i] as number) / channels.length;
  let peak = 0;
  for (const x of mono) peak = Math.max(peak, Math.abs(x));
  if (peak < 1e-3) throw new SpeechFileError(`--audio ${file} is silent (peak ${peak.toExponential(1)})`);
  return mono;
}

export interface TimelineOptions {
  sampleRate: number;
  utteranceMs: number;
  gapMs: number;
  /** At least this long, ms. */
  durationMs: number;
  detector?: OnsetDetectorOptions;
}

/** Utterances cut from `speech` in order (wrapping around), each followed by silence, for `durationMs`. */
export function buildTimeline(speech: Float32Array, o: TimelineOptions): SpeechTimeline {
  const perMs = o.sampleRate / 1000;
  const utterance = Math.round(o.utteranceMs * perMs);
  const gap = Math.round(o.gapMs * perMs);
  if (utterance < 1 || gap < 0) throw new RangeError('utterances must be longer than 0 ms and gaps not negative');
  const cycles = Math.max(1, Math.ceil((o.durationMs * perMs) / (utterance + gap)));
  const signal = new Float32Array(cycles * (utterance + gap));
  const utterances: Utterance[] = [];
  let from = 0;
  for (let c = 0; c < cycles; c++) {
    const start = c * (utterance + gap);
    for (let i = 0; i < utterance; i++) signal[start + i] = speech[(from + i) % speech.length] as number;
    from = (from + utterance) % speech.length;
    utterances.push({ start, end: start + utterance });
  }
  return { sampleRate: o.sampleRate, signal, utterances, onsets: onsetOffsets(signal, o.sampleRate, o.detector) };
}
