// Speech onsets in a stream of audio: the first 10 ms block whose RMS level reaches `thresholdDb` (dBFS) after at
// least `minSilenceMs` of blocks below it. The load tester runs the same detector over the speech it sends and over
// the avatar's speech it receives; an onset sent at t and heard again at t' gives one latency sample t' - t on the
// client's own clock.

export interface OnsetDetectorOptions {
  /** Block level that counts as sound, dBFS (default -40). */
  thresholdDb?: number;
  /** Silence needed before an onset can be reported again (default 250 ms). */
  minSilenceMs?: number;
}

export const BLOCK_MS = 10;

export class OnsetDetector {
  private readonly threshold: number;
  private readonly minSilenceMs: number;
  private silentMs: number;
  private pending: number[] = [];
  private pendingRate = 0;
  /** Time of the first sample held in `pending` (the start of the block being filled). */
  private pendingAt = 0;

  constructor(options: OnsetDetectorOptions = {}) {
    this.threshold = 10 ** ((options.thresholdDb ?? -40) / 20);
    this.minSilenceMs = options.minSilenceMs ?? 250;
    // The stream starts armed: speech right at the start is an onset.
    this.silentMs = this.minSilenceMs;
  }

  /**
   * Feeds mono samples in [-1, 1] that started at `atMs`; returns the times of the onsets found (start of the block
   * that crossed the threshold). Blocks are 10 ms at the given rate; a change of rate starts a new block.
   */
  push(samples: ArrayLike<number>, sampleRate: number, atMs: number): number[] {
    if (!(sampleRate > 0)) throw new RangeError(`sample rate must be positive, got ${sampleRate}`);
    if (sampleRate !== this.pendingRate) {
      this.pending = [];
      this.pendingRate = sampleRate;
    }
    const block = Math.max(1, Math.round((sampleRate * BLOCK_MS) / 1000));
    const onsets: number[] = [];
    if (this.pending.length === 0) this.pendingAt = atMs;
    for (let i = 0; i < samples.length; i++) {
      if (this.pending.length === 0) this.pendingAt = atMs + (i * 1000) / sampleRate;
      this.pending.push(samples[i] as number);
      if (this.pending.length < block) continue;
      let energy = 0;
      for (const x of this.pending) energy += x * x;
      const rms = Math.sqrt(energy / this.pending.length);
      if (rms >= this.threshold) {
        if (this.silentMs >= this.minSilenceMs) onsets.push(this.pendingAt);
        this.silentMs = 0;
      } else this.silentMs += BLOCK_MS;
      this.pending = [];
    }
    return onsets;
  }
}

/** Onsets of a whole signal, as sample offsets from its start. */
export function onsetOffsets(signal: Float32Array, sampleRate: number, options: OnsetDetectorOptions = {}): number[] {
  const detector = new OnsetDetector(options);
  return detector.push(signal, sampleRate, 0).map((ms) => Math.round((ms * sampleRate) / 1000));
}

/**
 * Pairs onsets heard with onsets sent in order (both sides run the same detector over the same speech, so the two
 * sequences agree but for onsets lost or added on the way): a sent onset more than `maxLatencyMs` older than the
 * next one heard was missed; an onset heard before the next sent one matches nothing (a dropout mid-speech). With
 * `endMs` (when listening stopped), sent onsets still unpaired and older than `maxLatencyMs` by then count as missed.
 */
export function matchOnsets(
  sentMs: readonly number[],
  heardMs: readonly number[],
  maxLatencyMs: number,
  endMs = Number.NEGATIVE_INFINITY,
): { latenciesMs: number[]; pairs: { sentMs: number; heardMs: number }[]; missed: number; unmatched: number } {
  const sent = [...sentMs].sort((a, b) => a - b);
  const pairs: { sentMs: number; heardMs: number }[] = [];
  let next = 0;
  let missed = 0;
  let unmatched = 0;
  for (const h of [...heardMs].sort((a, b) => a - b)) {
    while (next < sent.length && h - (sent[next] as number) > maxLatencyMs) {
      missed++;
      next++;
    }
    const s = sent[next];
    if (s === undefined || s > h) {
      unmatched++;
      continue;
    }
    pairs.push({ sentMs: s, heardMs: h });
    next++;
  }
  for (; next < sent.length; next++) if (endMs - (sent[next] as number) > maxLatencyMs) missed++;
  return { latenciesMs: pairs.map((p) => p.heardMs - p.sentMs), pairs, missed, unmatched };
}
