// Rotated square regions of an RGB frame: the model inputs are cut this way (bilinear, in TS: a 192² patch is
// ~37k samples, well under a millisecond, and needs no tensor ops on the full frame).

/** One decoded frame: rgb24, row-major, no padding. */
export interface RgbFrame {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/**
 * A square region of the source: centre, side length (source pixels) and rotation. The region's x axis points along
 * (cos angle, sin angle) in the source (y down), so a face whose eye line has that direction comes out upright.
 */
export interface Roi {
  cx: number;
  cy: number;
  size: number;
  angle: number;
}

/** Source position of a point given in patch units (0..patchSize along each axis, continuous). */
export function patchToSource(roi: Roi, patchSize: number, x: number, y: number): [number, number] {
  const u = (x / patchSize - 0.5) * roi.size;
  const v = (y / patchSize - 0.5) * roi.size;
  const c = Math.cos(roi.angle);
  const s = Math.sin(roi.angle);
  return [roi.cx + c * u - s * v, roi.cy + s * u + c * v];
}

/**
 * Samples the region into a [patchSize, patchSize, 3] float patch: value = pixel * scale + offset; outside the
 * frame the pixel is 0. With `mirror` the patch is flipped left-right (the iris model sees both eyes as one side).
 */
export function samplePatch(
  frame: RgbFrame,
  roi: Roi,
  patchSize: number,
  scale: number,
  offset: number,
  mirror = false,
  out = new Float32Array(patchSize * patchSize * 3),
): Float32Array {
  const { width, height, rgb } = frame;
  const step = roi.size / patchSize;
  const c = Math.cos(roi.angle) * step;
  const s = Math.sin(roi.angle) * step;
  const half = patchSize / 2;
  for (let py = 0; py < patchSize; py++) {
    const v = py + 0.5 - half;
    for (let px = 0; px < patchSize; px++) {
      const u = (mirror ? patchSize - px - 0.5 : px + 0.5) - half;
      // Source position in pixel-centre coordinates (pixel i covers [i, i + 1)).
      const sx = roi.cx + c * u - s * v - 0.5;
      const sy = roi.cy + s * u + c * v - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (py * patchSize + px) * 3;
      const w00 = (1 - fx) * (1 - fy);
      const w10 = fx * (1 - fy);
      const w01 = (1 - fx) * fy;
      const w11 = fx * fy;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
        const a = (y0 * width + x0) * 3;
        const b = a + width * 3;
        for (let ch = 0; ch < 3; ch++)
          out[o + ch] =
            ((rgb[a + ch] as number) * w00 +
              (rgb[a + 3 + ch] as number) * w10 +
              (rgb[b + ch] as number) * w01 +
              (rgb[b + 3 + ch] as number) * w11) *
              scale +
            offset;
        continue;
      }
      for (let ch = 0; ch < 3; ch++) {
        const at = (x: number, y: number) =>
          x < 0 || y < 0 || x >= width || y >= height ? 0 : (rgb[(y * width + x) * 3 + ch] as number);
        out[o + ch] =
          (at(x0, y0) * w00 + at(x0 + 1, y0) * w10 + at(x0, y0 + 1) * w01 + at(x0 + 1, y0 + 1) * w11) * scale + offset;
      }
    }
  }
  return out;
}
