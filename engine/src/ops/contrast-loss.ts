// The Negative Contrast Loss of identity-free pre-training (native/src/ops/contrast_loss.h).
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

/**
 * a, b: [n, >= 3] decoder outputs of two personalised motion fields at the same Gaussians (displacement in
 * columns 0..2). WRITES loss [1] = weight / n * sum_i max(0, a_i . b_i) and ADDS its gradients into gradA / gradB
 * (same shapes as a / b; null: not wanted).
 */
export function contrastLoss(
  a: Tensor<'f32'>,
  b: Tensor<'f32'>,
  weight: number,
  loss: Tensor<'f32'>,
  gradA: Tensor<'f32'> | null,
  gradB: Tensor<'f32'> | null,
): void {
  addon.contrastLoss(
    a.device === 'cuda' ? 1 : 0,
    a.native,
    b.native,
    weight,
    loss.native,
    gradA?.native ?? null,
    gradB?.native ?? null,
  );
}
