// RGB frames to I420 for video encoders (BT.601; matrix documented in native/src/ops/rgb_to_i420.h).
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

/**
 * 'limited': Y 16..235, U/V 16..240 (default; what WebRTC encoders and ffmpeg's yuv420p expect).
 * 'full': 0..255 (JPEG range).
 */
export type YuvRange = 'limited' | 'full';

/** Bytes of one I420 frame: Y plane, then U and V at half resolution. Width and height must be even. */
export function i420Size(width: number, height: number): number {
  return (width * height * 3) / 2;
}

/** rgb: f32 [B, H, W, 3] in [0, 1] (clamped); out: u8 [B, i420Size(W, H)]. */
export function rgbToI420(rgb: Tensor<'f32'>, out: Tensor<'u8'>, range: YuvRange = 'limited'): void {
  addon.rgbToI420(rgb.device === 'cuda' ? 1 : 0, rgb.native, range === 'full', out.native);
}
