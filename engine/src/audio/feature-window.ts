// Per-video-frame windows over a feature stream: the AudioNet input block of frame t.
//
// Video frame t (25 fps) owns feature step s = t * featureRate / 25 (2t at 50 features/s). Its block is
// [window, featureDim]: steps s - (window - windowAhead - 1) .. s + windowAhead, so windowAhead steps lie after the
// frame's own step. Steps before 0 are zeros (the stream starts from silence); steps after the end of an ended
// stream are zeros too. Frame t can be produced once featuresNeeded(t) = s + windowAhead + 1 features exist.
import type { AudioConfig } from '../model/config.js';
import { SAMPLE_RATE, WINDOW } from './log-mel.js';

export const VIDEO_FPS = 25;

/**
 * Audio latency of one frame from the feature stream's lookahead (windowAhead steps), the attention's look at
 * attentionAfter later video frames, and for log-mel the half analysis window the newest step needs.
 */
export function audioLatencyMs(audio: AudioConfig): number {
  const steps = audio.windowAhead + (audio.attentionAfter * audio.featureRate) / VIDEO_FPS;
  const analysis = audio.feature === 'log-mel' ? (WINDOW / 2 / SAMPLE_RATE) * 1000 : 0;
  return (steps * 1000) / audio.featureRate + analysis;
}

/**
 * The audio layout with the most lookahead whose latency (audioLatencyMs) fits in `ms`: window steps ahead first (up
 * to the official 8), then attention frames after (up to the official 3). 80 ms gives windowAhead 3 (72.5 ms for
 * log-mel), 40 ms windowAhead 1 (32.5 ms), 300 ms the official layout (windowAhead 8, attentionAfter 3: 292.5 ms).
 */
export function audioLayoutForLookahead(audio: AudioConfig, ms: number): AudioConfig {
  let best: AudioConfig | undefined;
  for (let attentionAfter = 0; attentionAfter <= 3; attentionAfter++)
    for (let windowAhead = 0; windowAhead <= Math.min(8, audio.window - 1); windowAhead++) {
      const layout = { ...audio, windowAhead, attentionAfter };
      const latency = audioLatencyMs(layout);
      if (latency <= ms && (!best || latency > audioLatencyMs(best))) best = layout;
    }
  if (!best)
    throw new RangeError(
      `no audio layout fits ${ms} ms of lookahead (the least is ${audioLatencyMs({ ...audio, windowAhead: 0, attentionAfter: 0 })} ms)`,
    );
  return best;
}

export class FeatureWindow {
  private readonly stepsPerFrame: number;
  private readonly before: number;
  private features = new Float32Array(0);
  /** Step index of features[0] (earlier steps were discarded). */
  private firstStep = 0;
  private steps = 0;
  private ended = false;

  constructor(readonly audio: AudioConfig) {
    this.stepsPerFrame = audio.featureRate / VIDEO_FPS;
    if (!Number.isInteger(this.stepsPerFrame))
      throw new RangeError(`FeatureWindow: featureRate ${audio.featureRate} is not a multiple of ${VIDEO_FPS} fps`);
    if (audio.windowAhead >= audio.window)
      throw new RangeError(`FeatureWindow: windowAhead ${audio.windowAhead} must be less than window ${audio.window}`);
    this.before = audio.window - audio.windowAhead - 1;
  }

  /** Feature steps received so far. */
  get length(): number {
    return this.steps;
  }

  /** Appends whole feature steps ([n, featureDim] row-major). */
  append(features: Float32Array): void {
    if (this.ended) throw new Error('FeatureWindow: append after end()');
    const dim = this.audio.featureDim;
    if (features.length % dim !== 0)
      throw new RangeError(`FeatureWindow: ${features.length} values is not a whole number of ${dim}-d steps`);
    const grown = new Float32Array(this.features.length + features.length);
    grown.set(this.features);
    grown.set(features, this.features.length);
    this.features = grown;
    this.steps += features.length / dim;
  }

  /** No more features: later steps read as zeros, so every frame up to the end can be produced. */
  end(): void {
    this.ended = true;
  }

  /** The feature step video frame t owns. */
  stepOf(t: number): number {
    return t * this.stepsPerFrame;
  }

  /** Feature steps that must exist before frame t's block can be produced (its lookahead included). */
  featuresNeeded(t: number): number {
    return this.stepOf(t) + this.audio.windowAhead + 1;
  }

  ready(t: number): boolean {
    return this.ended || this.steps >= this.featuresNeeded(t);
  }

  /** Frame t's block, [window, featureDim] row-major. */
  block(t: number, out = new Float32Array(this.audio.window * this.audio.featureDim)): Float32Array {
    const dim = this.audio.featureDim;
    if (!this.ready(t))
      throw new RangeError(
        `FeatureWindow: frame ${t} needs ${this.featuresNeeded(t)} feature steps, have ${this.steps}`,
      );
    const first = this.stepOf(t) - this.before;
    if (Math.max(0, first) < this.firstStep)
      throw new RangeError(`FeatureWindow: frame ${t} needs step ${Math.max(0, first)}, discarded already`);
    out.fill(0);
    for (let r = 0; r < this.audio.window; r++) {
      const step = first + r;
      if (step < 0 || step >= this.steps) continue;
      out.set(this.features.subarray((step - this.firstStep) * dim, (step - this.firstStep + 1) * dim), r * dim);
    }
    return out;
  }

  /** Frees the steps no frame from t on needs (call as frames are produced). */
  discardBefore(t: number): void {
    const keep = Math.min(Math.max(0, this.stepOf(t) - this.before), this.steps);
    if (keep <= this.firstStep) return;
    const dim = this.audio.featureDim;
    this.features = this.features.slice((keep - this.firstStep) * dim);
    this.firstStep = keep;
  }
}
