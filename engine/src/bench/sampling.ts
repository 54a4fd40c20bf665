// Helpers for benchmarks: robust statistics and synthetic per-frame inputs.
import type { ModelConfig } from '../model/config.js';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Log-mel-like feature windows (unit-variance noise), deterministic per seed: throughput does not depend on content. */
export function randomAudioWindows(model: ModelConfig, seed: number): Float32Array {
  const a = model.audio;
  const out = new Float32Array((a.attentionBefore + 1 + a.attentionAfter) * a.window * a.featureDim);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = ((state >>> 0) / 4294967296) * 3.4 - 1.7;
  }
  return out;
}
