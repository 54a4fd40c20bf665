// Resampling of u8 images (plates at another render size, training targets at the training size). Runs once per
// identity upload or dataset load, on the host. Shrinking by a whole factor averages each block of source pixels
// (no aliasing: a 512² frame trained at 128² must keep its skin texture statistics); any other size is bilinear.

export function resizeImage(
  src: Uint8Array,
  channels: number,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
): Uint8Array {
  if (src.length !== sw * sh * channels)
    throw new RangeError(`image of ${sw}x${sh}x${channels} needs ${sw * sh * channels} bytes, got ${src.length}`);
  if (sw === dw && sh === dh) return src;
  if (sw % dw === 0 && sh % dh === 0) return shrinkByBlocks(src, channels, sw, sh, sw / dw, sh / dh);
  return bilinear(src, channels, sw, sh, dw, dh);
}

export function resizeRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  return resizeImage(src, 3, sw, sh, dw, dh);
}

function shrinkByBlocks(src: Uint8Array, channels: number, sw: number, sh: number, fx: number, fy: number) {
  const dw = sw / fx;
  const dh = sh / fy;
  const out = new Uint8Array(dw * dh * channels);
  const area = fx * fy;
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++)
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let j = 0; j < fy; j++)
          for (let i = 0; i < fx; i++) sum += src[((y * fy + j) * sw + x * fx + i) * channels + c] as number;
        out[(y * dw + x) * channels + c] = Math.round(sum / area);
      }
  return out;
}

function bilinear(src: Uint8Array, channels: number, sw: number, sh: number, dw: number, dh: number) {
  const out = new Uint8Array(dw * dh * channels);
  for (let y = 0; y < dh; y++) {
    // Pixel centres map onto pixel centres.
    const fy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / dh - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / dw - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const p = (yy: number, xx: number) => src[(yy * sw + xx) * channels + c] as number;
        const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
        const bottom = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
        out[(y * dw + x) * channels + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return out;
}
