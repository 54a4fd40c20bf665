// Final frame compositing (official InsTaG): face over the mouth over the identity's torso-and-background plate.
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

/** One batch of B images of H x W; renders are premultiplied over black. */
export interface CompositeInputs {
  faceRgb: Tensor<'f32'>; // [B, H, W, 3]
  faceAlpha: Tensor<'f32'>; // [B, H, W]
  mouthRgb: Tensor<'f32'>; // [B, H, W, 3]
  mouthAlpha: Tensor<'f32'>; // [B, H, W]
  /** Per image: u8 RGB [H, W, 3], the identity's torso over its background for that frame. */
  backgrounds: readonly Tensor<'u8'>[];
  /** Workspace [B, H, W] for the separable dilation. */
  scratch: Tensor<'f32'>;
}

/**
 * out ([B, H, W, 3], clamped to [0, 1]) = faceRgb + (mouthRgb + background * (1 - dilate(mouthAlpha))) *
 * (1 - faceAlpha), with dilate a (2r + 1)^2 max filter clipped at the image borders (r: 0..32; official 6).
 */
export function composite(inputs: CompositeInputs, dilateRadius: number, out: Tensor<'f32'>): void {
  addon.composite(
    out.device === 'cuda' ? 1 : 0,
    inputs.faceRgb.native,
    inputs.faceAlpha.native,
    inputs.mouthRgb.native,
    inputs.mouthAlpha.native,
    inputs.backgrounds.map((t) => t.native),
    dilateRadius,
    inputs.scratch.native,
    out.native,
  );
}

/** Gradients of the composite's inputs, each the shape of its input. */
export interface CompositeGrads {
  faceRgb: Tensor<'f32'>;
  faceAlpha: Tensor<'f32'>;
  mouthRgb: Tensor<'f32'>;
  mouthAlpha: Tensor<'f32'>;
}

/**
 * Backward of composite() with the same inputs: from gradOut ([B, H, W, 3]) WRITES every input's gradient (the
 * background plate gets none). The clamp passes gradients where 0 <= value <= 1; the dilated mouth alpha sends each
 * pixel's gradient to its window's first maximum in raster order (as the forward's max filter picks it).
 * argScratch: an i32 [B, H, W] workspace, beside inputs.scratch.
 */
export function compositeBackward(
  inputs: CompositeInputs,
  dilateRadius: number,
  gradOut: Tensor<'f32'>,
  argScratch: Tensor<'i32'>,
  grads: CompositeGrads,
): void {
  addon.compositeBackward(
    gradOut.device === 'cuda' ? 1 : 0,
    inputs.faceRgb.native,
    inputs.faceAlpha.native,
    inputs.mouthRgb.native,
    inputs.mouthAlpha.native,
    inputs.backgrounds.map((t) => t.native),
    dilateRadius,
    gradOut.native,
    inputs.scratch.native,
    argScratch.native,
    grads.faceRgb.native,
    grads.faceAlpha.native,
    grads.mouthRgb.native,
    grads.mouthAlpha.native,
  );
}
