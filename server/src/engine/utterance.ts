// One speech segment of a session, from pushed PCM to per-frame AudioNet input: PCM at 16/24/48 kHz is resampled to
// 16 kHz, kept for the frames' audio, and fed to a LogMelStream lazily (two feature steps per frame, as frames are
// asked for, so a long chunk costs nothing until it plays). Frame u plays 16-kHz samples [640u, 640u + 640) and is
// ready once the feature window has its lookahead (FeatureWindow.ready); ending the segment zero-pads the rest.
import {
  type AudioConfig,
  audioWindowsAt,
  FeatureWindow,
  HOP,
  LogMelStream,
  Resampler,
  SAMPLE_RATE,
  VIDEO_FPS,
} from '@splatcast/engine';

/** 16-kHz samples per video frame (640). */
export const SAMPLES_PER_FRAME = SAMPLE_RATE / VIDEO_FPS;

export class Utterance {
  private readonly features: FeatureWindow;
  private readonly mel = new LogMelStream();
  private resampler: Resampler | undefined;
  /** 16-kHz samples not yet both played and fed to the features; pcm[0] is absolute sample pcmStart. */
  private pcm = new Float32Array(SAMPLES_PER_FRAME * 8);
  private pcmStart = 0;
  private pcmLength = 0;
  private melFed = 0;
  private melEnded = false;
  private segmentEnded = false;
  /** Frames taken so far. */
  private played = 0;
  /** [16-kHz samples received after a chunk, when it arrived (epoch ms)], oldest first; played ones dropped. */
  private arrivals: [number, number][] = [];

  /** Live audio (a microphone): when the worker drops tick slots, its playback skips ahead to stay real time. */
  constructor(
    private readonly audio: AudioConfig,
    readonly live = false,
  ) {
    this.features = new FeatureWindow(audio);
  }

  /** 16-kHz samples received (after resampling). */
  get samples(): number {
    return this.pcmStart + this.pcmLength;
  }

  get ended(): boolean {
    return this.segmentEnded;
  }

  get started(): boolean {
    return this.played > 0;
  }

  /** Ended and every frame taken. */
  get finished(): boolean {
    return this.segmentEnded && this.played * SAMPLES_PER_FRAME >= this.samples;
  }

  /** Audio played so far, ms. */
  get positionMs(): number {
    return (Math.min(this.played * SAMPLES_PER_FRAME, this.samples) * 1000) / SAMPLE_RATE;
  }

  /** Audio received and not yet played, ms. */
  get bufferedMs(): number {
    return (Math.max(0, this.samples - this.played * SAMPLES_PER_FRAME) * 1000) / SAMPLE_RATE;
  }

  /** Queues audio; `receivedAtMs` (epoch ms) is when it reached the server, for frames' latency. */
  push(pcm: Float32Array, sampleRate: number, receivedAtMs?: number): void {
    if (this.segmentEnded) throw new Error('Utterance: push after end()');
    if (this.resampler && this.resampler.fromRate !== sampleRate) this.flushResampler();
    if (sampleRate === SAMPLE_RATE) this.append(pcm);
    else {
      this.resampler ??= new Resampler(sampleRate, SAMPLE_RATE);
      this.append(this.resampler.push(pcm));
    }
    if (receivedAtMs !== undefined) this.arrivals.push([this.samples, receivedAtMs]);
  }

  /** Segment end: no more audio; the last frame is zero-padded. */
  end(): void {
    if (this.segmentEnded) return;
    this.flushResampler();
    this.segmentEnded = true;
  }

  /** Whether the next frame can be taken now (its audio and its features' lookahead have arrived). */
  ready(): boolean {
    if (this.finished) return false;
    const u = this.played;
    if (!this.segmentEnded && this.samples < (u + 1) * SAMPLES_PER_FRAME) return false;
    const newest = u + this.audio.attentionAfter;
    this.feedFeatures(newest);
    return this.features.ready(newest);
  }

  /** The next frame's AudioNet input and its 640 samples of audio. Call only when ready(). */
  take(): { audioWindows: Float32Array; audio: Float32Array; audioArrivalMs: number | undefined } {
    const u = this.played;
    const audioArrivalMs = this.arrivalOf((u + 1) * SAMPLES_PER_FRAME);
    const audioWindows = audioWindowsAt(this.features, u);
    const audio = new Float32Array(SAMPLES_PER_FRAME);
    const from = u * SAMPLES_PER_FRAME - this.pcmStart;
    const to = Math.min(from + SAMPLES_PER_FRAME, this.pcmLength);
    if (to > from) audio.set(this.pcm.subarray(from, to));
    this.played++;
    this.features.discardBefore(this.played - this.audio.attentionBefore);
    this.trim();
    return { audioWindows, audio, audioArrivalMs };
  }

  /** Skips up to `frames` ready frames (their audio is not played); returns how many were skipped. */
  skip(frames: number): number {
    let skipped = 0;
    while (skipped < frames && this.ready()) {
      this.take();
      skipped++;
    }
    return skipped;
  }

  /** When the chunk that completed sample `end` arrived (the segment's last chunk for its zero-padded tail). */
  private arrivalOf(end: number): number | undefined {
    while (this.arrivals.length > 1 && (this.arrivals[0] as [number, number])[0] < end) this.arrivals.shift();
    return this.arrivals[0]?.[1];
  }

  /** Feeds the log-mel stream one hop at a time until frame t's block can be built (or the audio runs out). */
  private feedFeatures(t: number): void {
    const needed = this.features.featuresNeeded(t);
    while (this.features.length < needed && !this.melEnded) {
      if (this.melFed < this.samples) {
        const n = Math.min(HOP, this.samples - this.melFed);
        const at = this.melFed - this.pcmStart;
        this.mel.push(this.pcm.subarray(at, at + n));
        this.melFed += n;
      } else if (this.segmentEnded) {
        this.mel.end();
        this.melEnded = true;
      } else break;
      const steps = this.mel.pull();
      if (steps.length > 0) this.features.append(steps);
      if (this.melEnded) this.features.end();
    }
  }

  private flushResampler(): void {
    if (!this.resampler) return;
    this.append(this.resampler.end());
    this.resampler = undefined;
  }

  private append(samples: Float32Array): void {
    if (this.pcmLength + samples.length > this.pcm.length) {
      const grown = new Float32Array(Math.max(2 * this.pcm.length, this.pcmLength + samples.length));
      grown.set(this.pcm.subarray(0, this.pcmLength));
      this.pcm = grown;
    }
    this.pcm.set(samples, this.pcmLength);
    this.pcmLength += samples.length;
  }

  /** Drops samples both played and fed to the features (compacting only when that is most of the buffer). */
  private trim(): void {
    const keepFrom = Math.min(this.melFed, this.played * SAMPLES_PER_FRAME);
    const drop = keepFrom - this.pcmStart;
    if (drop < this.pcm.length / 2) return;
    this.pcm.copyWithin(0, drop, this.pcmLength);
    this.pcmLength -= drop;
    this.pcmStart += drop;
  }
}
