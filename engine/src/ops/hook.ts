// The mouth field's hook features (InsTaG): per segment, cues from the face's vertical displacement.
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

/**
 * For each segment, over its rows of displacement[:, 1] ([rows, 3], segments concatenated): out[s] = [max cue,
 * min cue, range] ([B, 3]), the means of the topK largest and topK smallest values and their difference. A segment
 * with fewer than topK rows averages all of them; an empty one gets zeros. topK: 1..32 (official: 10).
 */
export function hookFeatures(
  rowCounts: readonly number[],
  displacement: Tensor<'f32'>,
  topK: number,
  out: Tensor<'f32'>,
): void {
  addon.hookFeatures(displacement.device === 'cuda' ? 1 : 0, [...rowCounts], displacement.native, topK, out.native);
}

/**
 * Backward of hookFeatures(): from gradOut ([B, 3], dL/d (max cue, min cue, range)) WRITES gradDisplacement
 * ([rows, 3]): column 1 of each row whose value a cue averaged gets that cue's gradient / n (the range adds to the
 * max cue's rows and subtracts from the min cue's), everything else zero. Rows of equal value are selected as the
 * forward selects them: the earlier row first.
 */
export function hookFeaturesBackward(
  rowCounts: readonly number[],
  displacement: Tensor<'f32'>,
  topK: number,
  gradOut: Tensor<'f32'>,
  gradDisplacement: Tensor<'f32'>,
): void {
  addon.hookFeaturesBackward(
    displacement.device === 'cuda' ? 1 : 0,
    [...rowCounts],
    displacement.native,
    topK,
    gradOut.native,
    gradDisplacement.native,
  );
}
