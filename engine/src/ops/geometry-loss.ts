// The geometry regulariser of adaptation (native/src/ops/geometry_loss.h): rendered depth and depth-surface normals
// against a geometry prior, scale-invariant in depth.
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

/** f32 values of the workspace geometryLoss needs (its double-precision sums). */
export const GEOMETRY_WORKSPACE = 16;

export interface GeometryLossOptions {
  intrinsics: { fx: number; fy: number; cx: number; cy: number };
  /** lambda_D of the Pearson depth term (paper: 1e-2). */
  weightDepth: number;
  /** lambda_N of the normal term (paper: 1e-3). */
  weightNormal: number;
}

/**
 * depth, alpha: [1, H, W] from the rasterizer (depth = sum of z * alpha * T); prior: [1, H, W, 4] (normal, depth;
 * depth 0 where none). WRITES loss [2] (depth term, normal term, weighted) and, unless grads is null, ADDS the
 * gradients into grads.depth and grads.alpha.
 */
export function geometryLoss(
  depth: Tensor<'f32'>,
  alpha: Tensor<'f32'>,
  prior: Tensor<'f32'>,
  options: GeometryLossOptions,
  workspace: Tensor<'f32'>,
  loss: Tensor<'f32'>,
  grads: { depth: Tensor<'f32'>; alpha: Tensor<'f32'> } | null,
): void {
  addon.geometryLoss(
    depth.device === 'cuda' ? 1 : 0,
    depth.native,
    alpha.native,
    prior.native,
    { ...options.intrinsics, weightDepth: options.weightDepth, weightNormal: options.weightNormal },
    workspace.native,
    loss.native,
    grads?.depth.native ?? null,
    grads?.alpha.native ?? null,
  );
}
