// --find-capacity: the largest session count whose run still meets the thresholds (the knee). Counts grow
// geometrically from `start` until a run fails or `max` is reached, then the gap between the last count that passed
// and the first that failed is bisected down to `resolution`. It assumes quality only gets worse with more sessions;
// a noisy run can break that, so every step is kept in the report.

export interface CapacityThresholds {
  /** p95 audio-to-avatar latency must stay at or below this, ms. */
  maxP95LatencyMs: number;
  /** The 5th percentile of per-session received FPS must stay at or above this. */
  minFps: number;
  /** Sessions allowed to fail (connect errors, closed early); default 0. */
  maxFailedSessions?: number;
}

/** What one run at a session count measured (a summary of it). */
export interface CapacityMeasurement {
  sessions: number;
  p95LatencyMs: number;
  fpsP5: number;
  failedSessions: number;
}

export interface CapacityStep extends CapacityMeasurement {
  pass: boolean;
  /** Why it failed: which thresholds it broke. */
  reasons: string[];
}

export interface CapacitySearchOptions {
  start: number;
  max: number;
  /** Stop bisecting when the pass/fail gap is this small (sessions); default 1. */
  resolution?: number;
  /** Growth factor between steps before the first failure; default 2. */
  growth?: number;
  thresholds: CapacityThresholds;
  measure: (sessions: number) => Promise<CapacityMeasurement>;
  /** Told after each step (progress output). */
  onStep?: (step: CapacityStep) => void;
}

export interface CapacityResult {
  /** The largest count that passed, or 0 when even `start` failed. */
  knee: number;
  /** The smallest count that failed, when one did. */
  firstFailure: number | undefined;
  /** True when `max` passed: the capacity may be higher than the search went. */
  limitedByMax: boolean;
  steps: CapacityStep[];
}

export function judge(m: CapacityMeasurement, t: CapacityThresholds): CapacityStep {
  const reasons: string[] = [];
  if (m.failedSessions > (t.maxFailedSessions ?? 0)) reasons.push(`${m.failedSessions} sessions failed`);
  if (!(m.p95LatencyMs <= t.maxP95LatencyMs))
    reasons.push(`p95 latency ${fmt(m.p95LatencyMs)} ms > ${t.maxP95LatencyMs} ms`);
  if (!(m.fpsP5 >= t.minFps)) reasons.push(`p5 fps ${fmt(m.fpsP5)} < ${t.minFps}`);
  return { ...m, pass: reasons.length === 0, reasons };
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : String(x));

export async function findCapacity(o: CapacitySearchOptions): Promise<CapacityResult> {
  const resolution = o.resolution ?? 1;
  const growth = o.growth ?? 2;
  if (!Number.isInteger(o.start) || o.start < 1)
    throw new RangeError(`start must be a positive integer, got ${o.start}`);
  if (!Number.isInteger(o.max) || o.max < o.start) throw new RangeError(`max must be an integer ≥ start, got ${o.max}`);
  if (!(resolution >= 1)) throw new RangeError(`resolution must be at least 1, got ${resolution}`);
  if (!(growth > 1)) throw new RangeError(`growth must be above 1, got ${growth}`);
  const steps: CapacityStep[] = [];
  const run = async (n: number) => {
    const step = judge(await o.measure(n), o.thresholds);
    steps.push(step);
    o.onStep?.(step);
    return step.pass;
  };
  let good = 0;
  let bad: number | undefined;
  for (let n = o.start; ; n = Math.min(o.max, Math.max(n + 1, Math.round(n * growth)))) {
    if (await run(n)) good = n;
    else {
      bad = n;
      break;
    }
    if (n >= o.max) break;
  }
  while (bad !== undefined && bad - good > resolution) {
    const mid = Math.floor((good + bad) / 2);
    if (mid <= good) break;
    if (await run(mid)) good = mid;
    else bad = mid;
  }
  return { knee: good, firstFailure: bad, limitedByMax: bad === undefined, steps };
}
