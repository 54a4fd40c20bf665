// Streaming rational resampler: polyphase windowed-sinc (Kaiser, beta 9: about 90 dB stopband), any integer rates.
// For a ratio L/M (in lowest terms) output sample n sits at input time n*M/L; its value is the input convolved with a
// low-pass sinc whose cutoff is 0.9 x the lower Nyquist frequency, so nothing above the output's Nyquist folds back.
// The filter is symmetric around the output instant: no delay, and outputs do not depend on how input was chunked.
// Before the first sample (and after the last, once ended) the input is taken as zeros.

const ZERO_CROSSINGS = 32;
const KAISER_BETA = 9;
const ROLLOFF = 0.9;
export const MIN_RATE = 1000;
export const MAX_RATE = 768000;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Zeroth-order modified Bessel function of the first kind (series; converges fast for the betas used here). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

export class Resampler {
  /** Output samples per `down` input samples: `up`. */
  readonly up: number;
  readonly down: number;
  /** Taps per output sample: input samples base - half + 1 .. base + half. */
  private readonly half: number;
  /** [up][2 * half] filter taps, one row per phase. */
  private readonly taps: Float64Array;
  private pending = new Float32Array(0);
  private pendingStart = 0;
  private received = 0;
  private ended = false;
  /** Index of the next output sample. */
  private next = 0;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    for (const [what, rate] of [
      ['input', fromRate],
      ['output', toRate],
    ] as const)
      if (!Number.isInteger(rate) || rate < MIN_RATE || rate > MAX_RATE)
        throw new RangeError(`Resampler: ${what} rate ${rate} Hz is not an integer in ${MIN_RATE}..${MAX_RATE}`);
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    // Cutoff in cycles per input sample, and the kernel's half width in input samples.
    const cutoff = 0.5 * ROLLOFF * Math.min(1, this.up / this.down);
    const width = ZERO_CROSSINGS / (2 * cutoff);
    this.half = Math.ceil(width);
    const row = 2 * this.half;
    this.taps = new Float64Array(this.up * row);
    const norm = besselI0(KAISER_BETA);
    for (let p = 0; p < this.up; p++) {
      let sum = 0;
      for (let j = 0; j < row; j++) {
        const t = p / this.up + this.half - 1 - j; // output instant minus the tap's input instant
        const x = 2 * cutoff * t;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const r = t / width;
        const kaiser = Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / norm;
        const h = 2 * cutoff * sinc * kaiser;
        this.taps[p * row + j] = h;
        sum += h;
      }
      // Unit gain at DC for every phase (removes a small phase-dependent ripple of the truncated kernel).
      for (let j = 0; j < row; j++) this.taps[p * row + j] = (this.taps[p * row + j] as number) / sum;
    }
  }

  /** Feeds input; returns the output samples that are complete now. */
  push(input: Float32Array): Float32Array {
    if (this.ended) throw new Error('Resampler: push after end()');
    const grown = new Float32Array(this.pending.length + input.length);
    grown.set(this.pending);
    grown.set(input, this.pending.length);
    this.pending = grown;
    this.received += input.length;
    return this.drain();
  }

  /** No more input: returns the remaining output (the tail is filtered against zeros). */
  end(): Float32Array {
    this.ended = true;
    return this.drain();
  }

  /** Output samples a stream of `inputs` samples yields in all: ceil(inputs * up / down). */
  outputLength(inputs: number): number {
    return Math.ceil((inputs * this.up) / this.down);
  }

  private drain(): Float32Array {
    const { up, down, half, taps } = this;
    const row = 2 * half;
    // Output n needs input up to floor(n * down / up) + half; once ended, outputs run to the stream's length.
    const last = this.ended
      ? this.outputLength(this.received)
      : Math.max(0, Math.ceil(((this.received - half) * up) / down));
    const count = Math.max(0, last - this.next);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const n = this.next + i;
      const base = Math.floor((n * down) / up);
      const phase = n * down - base * up;
      const first = base - half + 1 - this.pendingStart;
      let acc = 0;
      const offset = phase * row;
      for (let j = 0; j < row; j++) {
        const at = first + j;
        if (at >= 0 && at < this.pending.length) acc += (taps[offset + j] as number) * (this.pending[at] as number);
      }
      out[i] = acc;
    }
    this.next += count;
    const keepFrom = Math.floor((this.next * down) / up) - half + 1;
    const drop = Math.min(Math.max(0, keepFrom - this.pendingStart), this.pending.length);
    if (drop > 0) {
      this.pending = this.pending.slice(drop);
      this.pendingStart += drop;
    }
    return out;
  }
}

/** Resamples a whole signal. */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return samples.slice();
  const r = new Resampler(fromRate, toRate);
  const head = r.push(samples);
  const tail = r.end();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
