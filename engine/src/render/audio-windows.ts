// The AudioNet input of one output frame: the feature blocks of the frames its attention looks at.
import type { FeatureWindow } from '../audio/feature-window.js';

/** [attentionBefore + 1 + attentionAfter, window, featureDim] for video frame t, oldest first. */
export function audioWindowsAt(features: FeatureWindow, t: number): Float32Array {
  const { attentionBefore, attentionAfter, window, featureDim } = features.audio;
  const block = window * featureDim;
  const out = new Float32Array((attentionBefore + 1 + attentionAfter) * block);
  for (let k = -attentionBefore; k <= attentionAfter; k++)
    features.block(t + k, out.subarray((k + attentionBefore) * block, (k + attentionBefore + 1) * block));
  return out;
}
