// Paired comparison of two methods scored on the same frames: the mean per-frame difference and its standard error.
// Frame-to-frame variation (pose, speech) is shared by both methods and cancels, so a paired difference resolves far
// smaller effects than comparing two means whose spreads include that variation.

export interface PairedDifference {
  /** Mean of a[i] - b[i] over the frames both scored. */
  mean: number;
  /** Standard error of that mean (sample standard deviation / sqrt(n)); NaN below two pairs. */
  standardError: number;
  /** Pairs used (frames where neither score is null). */
  n: number;
}

export function pairedDifference(a: readonly (number | null)[], b: readonly (number | null)[]): PairedDifference {
  if (a.length !== b.length) throw new RangeError(`paired scores need equal lengths, got ${a.length} and ${b.length}`);
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== null && x !== undefined && y !== null && y !== undefined) d.push(x - y);
  }
  const n = d.length;
  if (n === 0) return { mean: Number.NaN, standardError: Number.NaN, n };
  const mean = d.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, standardError: Number.NaN, n };
  const variance = d.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { mean, standardError: Math.sqrt(variance / n), n };
}
