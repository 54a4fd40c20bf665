// What a viewer sees of the frame cadence, from the arrival times of decoded frames: received FPS, frame-interval
// jitter and freezes. A freeze follows the WebRTC statistics definition (freezeCount in webrtc-stats, as Chromium
// computes it): an interval longer than max(3 × the frame interval, the frame interval + 150 ms). At 25 fps that is
// 190 ms. Unlike Chromium we compare with the nominal interval, not a running average, so a stream that has slowed
// down as a whole is not excused.

export interface FrameIntervalStats {
  frames: number;
  /** First to last frame, ms. */
  spanMs: number;
  /** Frames per second over the span. */
  fps: number;
  meanIntervalMs: number;
  /** Standard deviation of the intervals between consecutive frames, ms. */
  jitterMs: number;
  p95IntervalMs: number;
  maxIntervalMs: number;
  freezes: number;
  /** Time spent in freezes (the whole of each freezing interval), ms. */
  frozenMs: number;
}

export function freezeThresholdMs(expectedFps: number): number {
  if (!(expectedFps > 0)) throw new RangeError(`expected fps must be positive, got ${expectedFps}`);
  const interval = 1000 / expectedFps;
  return Math.max(3 * interval, interval + 150);
}

/** Statistics of frames that arrived at `arrivalsMs` (ascending, one clock). */
export function frameIntervalStats(arrivalsMs: readonly number[], expectedFps: number): FrameIntervalStats {
  const threshold = freezeThresholdMs(expectedFps);
  const intervals: number[] = [];
  for (let i = 1; i < arrivalsMs.length; i++) {
    const d = (arrivalsMs[i] as number) - (arrivalsMs[i - 1] as number);
    if (d < 0) throw new RangeError(`frame arrivals must be ascending (index ${i} goes back ${-d} ms)`);
    intervals.push(d);
  }
  const spanMs = arrivalsMs.length > 1 ? (arrivalsMs.at(-1) as number) - (arrivalsMs[0] as number) : 0;
  const mean = intervals.length ? spanMs / intervals.length : Number.NaN;
  const variance = intervals.length
    ? intervals.reduce((s, d) => s + (d - mean) ** 2, 0) / intervals.length
    : Number.NaN;
  const sorted = [...intervals].sort((a, b) => a - b);
  const frozen = intervals.filter((d) => d > threshold);
  const rank = Math.max(0, Math.ceil(0.95 * sorted.length) - 1);
  return {
    frames: arrivalsMs.length,
    spanMs,
    fps: spanMs > 0 ? (intervals.length * 1000) / spanMs : 0,
    meanIntervalMs: mean,
    jitterMs: Math.sqrt(variance),
    p95IntervalMs: sorted.length ? (sorted[rank] as number) : Number.NaN,
    maxIntervalMs: sorted.at(-1) ?? Number.NaN,
    freezes: frozen.length,
    frozenMs: frozen.reduce((s, d) => s + d, 0),
  };
}
