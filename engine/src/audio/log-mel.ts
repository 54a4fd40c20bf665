// Streaming log-mel features, the 'log-mel' kind of model.audio.feature. Everything is fixed by the constants below
// (an identity trained on these features must be served with exactly these):
//   16 kHz mono float PCM; frame j is centred on sample j * 320 (20-ms hop: 50 frames/s, two per 25-fps video frame)
//   and covers samples [j*320 - 200, j*320 + 200) with a periodic Hann window (25 ms); samples before the start of
//   the stream (and after its end, once ended) are zeros. FFT size 512 (the 400 windowed samples zero-padded),
//   power spectrum |X|^2, 80 mel bands on 0..8000 Hz with the Slaney mel scale and Slaney area normalisation
//   (librosa's default filterbank), then (ln(max(1e-10, mel)) - LOG_MEL_MEAN) / LOG_MEL_STD.
// The normalisation is a fixed affine map (not per-utterance statistics, which a stream does not have); its constants
// (ln mean about -8, spread about 4, measured over the English, German and Chinese test speech) put speech at
// roughly zero mean and unit spread.
// Frame j can be computed once samples up to j*320 + 199 have arrived: 200 samples (12.5 ms) after its centre.

export const SAMPLE_RATE = 16000;
export const HOP = 320;
export const WINDOW = 400;
export const FFT_SIZE = 512;
export const MEL_BANDS = 80;
export const LOG_FLOOR = 1e-10;
export const LOG_MEL_MEAN = -8;
export const LOG_MEL_STD = 4;
const HALF = WINDOW / 2;
const BINS = FFT_SIZE / 2 + 1;

/** Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above. */
export function hzToMel(hz: number): number {
  const linear = hz / (200 / 3);
  return hz < 1000 ? linear : 15 + Math.log(hz / 1000) / (Math.log(6.4) / 27);
}
export function melToHz(mel: number): number {
  return mel < 15 ? mel * (200 / 3) : 1000 * Math.exp((mel - 15) * (Math.log(6.4) / 27));
}

/** [MEL_BANDS][BINS] triangular filters with Slaney area normalisation (2 / bandwidth in Hz), as librosa builds. */
export function melFilterbank(): Float64Array[] {
  const points = Array.from({ length: MEL_BANDS + 2 }, (_, i) =>
    melToHz((i * hzToMel(SAMPLE_RATE / 2)) / (MEL_BANDS + 1)),
  );
  return Array.from({ length: MEL_BANDS }, (_, m) => {
    const [lo, centre, hi] = [points[m] as number, points[m + 1] as number, points[m + 2] as number];
    const row = new Float64Array(BINS);
    for (let k = 0; k < BINS; k++) {
      const f = (k * SAMPLE_RATE) / FFT_SIZE;
      const w = Math.max(0, Math.min((f - lo) / (centre - lo), (hi - f) / (hi - centre)));
      row[k] = (w * 2) / (hi - lo);
    }
    return row;
  });
}

/** Periodic Hann window of WINDOW samples. */
export const hannWindow = (): Float64Array =>
  Float64Array.from({ length: WINDOW }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / WINDOW));

/** In-place radix-2 complex FFT of FFT_SIZE points. */
class Fft {
  private readonly cos = new Float64Array(FFT_SIZE / 2);
  private readonly sin = new Float64Array(FFT_SIZE / 2);
  private readonly reversed = new Uint16Array(FFT_SIZE);

  constructor() {
    const bits = Math.log2(FFT_SIZE);
    for (let i = 0; i < FFT_SIZE; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.reversed[i] = r;
    }
    for (let i = 0; i < FFT_SIZE / 2; i++) {
      this.cos[i] = Math.cos((2 * Math.PI * i) / FFT_SIZE);
      this.sin[i] = -Math.sin((2 * Math.PI * i) / FFT_SIZE);
    }
  }

  transform(re: Float64Array, im: Float64Array): void {
    for (let i = 0; i < FFT_SIZE; i++) {
      const j = this.reversed[i] as number;
      if (j > i) {
        [re[i], re[j]] = [re[j] as number, re[i] as number];
        [im[i], im[j]] = [im[j] as number, im[i] as number];
      }
    }
    for (let size = 2; size <= FFT_SIZE; size *= 2) {
      const half = size / 2;
      const step = FFT_SIZE / size;
      for (let start = 0; start < FFT_SIZE; start += size)
        for (let k = 0; k < half; k++) {
          const [wr, wi] = [this.cos[k * step] as number, this.sin[k * step] as number];
          const [a, b] = [start + k, start + k + half];
          const xr = (re[b] as number) * wr - (im[b] as number) * wi;
          const xi = (re[b] as number) * wi + (im[b] as number) * wr;
          re[b] = (re[a] as number) - xr;
          im[b] = (im[a] as number) - xi;
          re[a] = (re[a] as number) + xr;
          im[a] = (im[a] as number) + xi;
        }
    }
  }
}

/**
 * Push 16-kHz mono PCM in chunks of any size; pull whole feature frames ([frames, MEL_BANDS], row-major) as they
 * become available. The features do not depend on how the audio was chunked.
 */
export class LogMelStream {
  private readonly window = hannWindow();
  private readonly filters = melFilterbank();
  private readonly fft = new Fft();
  private readonly re = new Float64Array(FFT_SIZE);
  private readonly im = new Float64Array(FFT_SIZE);
  private readonly power = new Float64Array(BINS);
  /** Pending samples; pending[0] is absolute sample `pendingStart`. */
  private pending = new Float32Array(4 * HOP);
  private pendingLength = 0;
  private pendingStart = 0;
  private received = 0;
  private ended = false;
  /** Index of the next frame pull() will return. */
  private next = 0;

  /** Frames returned so far. */
  get framesPulled(): number {
    return this.next;
  }

  push(pcm: Float32Array): void {
    if (this.ended) throw new Error('LogMelStream: push after end()');
    if (this.pendingLength + pcm.length > this.pending.length) {
      const grown = new Float32Array(Math.max(2 * this.pending.length, this.pendingLength + pcm.length));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(pcm, this.pendingLength);
    this.pendingLength += pcm.length;
    this.received += pcm.length;
  }

  /** No more audio: the frames whose centre lies within the stream become available, zero-padded at the end. */
  end(): void {
    this.ended = true;
  }

  /** Frames that can be computed now (not yet pulled). */
  get available(): number {
    const total = this.ended
      ? Math.ceil(this.received / HOP)
      : this.received >= HALF
        ? Math.floor((this.received - HALF) / HOP) + 1
        : 0;
    return Math.max(0, total - this.next);
  }

  /** All frames available now, [n, MEL_BANDS] row-major (n may be 0). */
  pull(): Float32Array {
    const n = this.available;
    const out = new Float32Array(n * MEL_BANDS);
    for (let i = 0; i < n; i++) this.frame(this.next + i, out.subarray(i * MEL_BANDS, (i + 1) * MEL_BANDS));
    this.next += n;
    // Keep only what later frames still need (from the next frame's first sample on).
    const keepFrom = Math.max(this.pendingStart, this.next * HOP - HALF);
    const drop = Math.min(keepFrom - this.pendingStart, this.pendingLength);
    if (drop > 0) {
      this.pending.copyWithin(0, drop, this.pendingLength);
      this.pendingLength -= drop;
      this.pendingStart += drop;
    }
    return out;
  }

  private frame(j: number, out: Float32Array): void {
    const { re, im, power, window } = this;
    re.fill(0);
    im.fill(0);
    const first = j * HOP - HALF;
    for (let n = 0; n < WINDOW; n++) {
      const at = first + n - this.pendingStart;
      const sample = at >= 0 && at < this.pendingLength ? (this.pending[at] as number) : 0;
      re[n] = sample * (window[n] as number);
    }
    this.fft.transform(re, im);
    for (let k = 0; k < BINS; k++) power[k] = (re[k] as number) ** 2 + (im[k] as number) ** 2;
    for (let m = 0; m < MEL_BANDS; m++) {
      const filter = this.filters[m] as Float64Array;
      let energy = 0;
      for (let k = 0; k < BINS; k++) energy += (filter[k] as number) * (power[k] as number);
      out[m] = (Math.log(Math.max(LOG_FLOOR, energy)) - LOG_MEL_MEAN) / LOG_MEL_STD;
    }
  }
}
