// Photometric losses of the trainer (3DGS: (1 - lambda) L1 + lambda D-SSIM), one value per image of a batch
// [B, H, W, 3], with an optional per-pixel weight mask [B, H, W]. Formulas: native/src/ops/losses.h.
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

/** Maps of [B, H, W, 3] floats the D-SSIM workspace holds: allocate [SSIM_WORKSPACE_MAPS, B, H, W, 3]. */
export const SSIM_WORKSPACE_MAPS = 8;

export interface LossInputs {
  image: Tensor<'f32'>; // [B, H, W, 3], the render
  target: Tensor<'f32'>; // [B, H, W, 3], the ground truth
  /** [B, H, W] per-pixel weights, or null for 1 everywhere. */
  mask: Tensor<'f32'> | null;
}

/**
 * L1_b = mean over the image's H W 3 values of mask * |image - target|, WRITTEN to loss ([B]). Unless gradImage is
 * null, weight * dL/d image is ADDED to it ([B, H, W, 3]): several losses sum into one gradient, which the trainer
 * zeroes once per step.
 */
export function l1Loss(inputs: LossInputs, weight: number, loss: Tensor<'f32'>, gradImage: Tensor<'f32'> | null): void {
  addon.l1Loss(
    inputs.image.device === 'cuda' ? 1 : 0,
    inputs.image.native,
    inputs.target.native,
    inputs.mask ? inputs.mask.native : null,
    weight,
    loss.native,
    gradImage ? gradImage.native : null,
  );
}

/**
 * D-SSIM_b = mean over the image's H W 3 values of mask * (1 - SSIM) (3DGS's SSIM: 11 x 11 Gaussian window,
 * sigma 1.5), WRITTEN to loss ([B]); weight * dL/d image is ADDED to gradImage unless it is null. workspace:
 * [SSIM_WORKSPACE_MAPS, B, H, W, 3].
 */
export function dssimLoss(
  inputs: LossInputs,
  weight: number,
  loss: Tensor<'f32'>,
  gradImage: Tensor<'f32'> | null,
  workspace: Tensor<'f32'>,
): void {
  addon.dssimLoss(
    inputs.image.device === 'cuda' ? 1 : 0,
    inputs.image.native,
    inputs.target.native,
    inputs.mask ? inputs.mask.native : null,
    weight,
    loss.native,
    gradImage ? gradImage.native : null,
    workspace.native,
  );
}
