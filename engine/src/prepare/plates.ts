// The background plate and the torso plates (docs/dataset-format.md, "Masks and plates"). The background plate is
// the per-pixel median of sampled frames over the samples where that pixel is surely background (well away from the
// person's matte edge, where hair and motion blur mix in the person's colours); pixels the person covers in every
// sample are filled smoothly from the seen ones by push-pull interpolation (a resolution pyramid: averages of the
// seen pixels pulled down, then pushed back up into the holes), which leaves no streaks, unlike nearest-neighbour
// filling. A torso plate is a frame's torso over the background plate: what the rendered head is composited on.

import { erode } from './morphology.js';

/** Background coverage (of 255) a pixel needs, everywhere within a safety distance, to be sampled. */
const SURE_BACKGROUND = 250;
/** The safety distance, pixels per 512 of frame size. */
const SAFETY = 4;

/**
 * Fills the pixels of `rgb` (n x n x 3, floats) whose `weight` is below 1 from the others: each level of the
 * pyramid holds the weighted average of the level below (weights summed, capped at 1); going back up, a pixel keeps
 * `weight` of its own colour and takes the rest from the coarser level (bilinear).
 */
export function pushPull(rgb: Float32Array, weight: Float32Array, n: number): void {
  if (n <= 1 || weight.every((w) => w >= 1)) return;
  const m = Math.ceil(n / 2);
  const coarseRgb = new Float32Array(m * m * 3);
  const coarseWeight = new Float32Array(m * m);
  for (let y = 0; y < m; y++)
    for (let x = 0; x < m; x++) {
      let [r, g, b, w] = [0, 0, 0, 0];
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++) {
          const [fx, fy] = [2 * x + dx, 2 * y + dy];
          if (fx >= n || fy >= n) continue;
          const i = fy * n + fx;
          const wi = weight[i] as number;
          r += wi * (rgb[3 * i] as number);
          g += wi * (rgb[3 * i + 1] as number);
          b += wi * (rgb[3 * i + 2] as number);
          w += wi;
        }
      const c = y * m + x;
      if (w > 0) coarseRgb.set([r / w, g / w, b / w], 3 * c);
      coarseWeight[c] = Math.min(1, w);
    }
  pushPull(coarseRgb, coarseWeight, m);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      const own = weight[i] as number;
      if (own >= 1) continue;
      // Bilinear sample of the coarse level at this pixel's centre.
      const [cx, cy] = [
        Math.min(m - 1, Math.max(0, (x + 0.5) / 2 - 0.5)),
        Math.min(m - 1, Math.max(0, (y + 0.5) / 2 - 0.5)),
      ];
      const [x0, y0] = [Math.floor(cx), Math.floor(cy)];
      const [x1, y1] = [Math.min(m - 1, x0 + 1), Math.min(m - 1, y0 + 1)];
      const [wx, wy] = [cx - x0, cy - y0];
      for (let ch = 0; ch < 3; ch++) {
        const v = (xx: number, yy: number) => coarseRgb[3 * (yy * m + xx) + ch] as number;
        const up = (v(x0, y0) * (1 - wx) + v(x1, y0) * wx) * (1 - wy) + (v(x0, y1) * (1 - wx) + v(x1, y1) * wx) * wy;
        rgb[3 * i + ch] = own * (rgb[3 * i + ch] as number) + (1 - own) * up;
      }
    }
}

/** One frame's contribution to the plate: its colours and where it is surely background. */
export interface BackgroundSample {
  rgb: Uint8Array;
  /** 1 where the pixel is background in this frame, away from the person's edge. */
  sure: Uint8Array;
}

export function backgroundSample(rgb: Uint8Array, background: Uint8Array, size: number): BackgroundSample {
  const sure = erode(
    background.map((v) => (v >= SURE_BACKGROUND ? 1 : 0)),
    size,
    Math.max(1, Math.round((SAFETY * size) / 512)),
  );
  return { rgb, sure };
}

/** The plate (rgb24) from the samples; the fraction of its pixels seen as background in at least one; and how
 * much the background changes over the clip: the mean absolute difference (of 255, per channel) between the samples'
 * sure background and the plate (about 1-2 for a still camera, 10 for a hand-held one). */
export function estimateBackground(
  samples: BackgroundSample[],
  size: number,
): { rgb: Uint8Array; seenFraction: number; change: number } {
  const pixels = size * size;
  const rgb = new Float32Array(pixels * 3);
  const weight = new Float32Array(pixels);
  const values = new Float64Array(samples.length);
  let seen = 0;
  for (let i = 0; i < pixels; i++)
    for (let ch = 0; ch < 3; ch++) {
      let n = 0;
      for (const { rgb: frame, sure } of samples) {
        if (!sure[i]) continue;
        // Insertion into the sorted prefix: a few dozen samples at most.
        const v = frame[3 * i + ch] as number;
        let j = n++;
        while (j > 0 && (values[j - 1] as number) > v) {
          values[j] = values[j - 1] as number;
          j--;
        }
        values[j] = v;
      }
      if (n === 0) break;
      const mid = n >> 1;
      rgb[3 * i + ch] = n % 2 ? (values[mid] as number) : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
      if (ch === 0) {
        weight[i] = 1;
        seen++;
      }
    }
  if (seen === 0) rgb.fill(128);
  else pushPull(rgb, weight, size);
  const plate = Uint8Array.from(rgb, (v) => Math.round(v));
  let [difference, count] = [0, 0];
  for (const { rgb: frame, sure } of samples)
    for (let i = 0; i < pixels; i++)
      if (sure[i])
        for (let ch = 0; ch < 3; ch++) {
          difference += Math.abs((frame[3 * i + ch] as number) - (plate[3 * i + ch] as number));
          count++;
        }
  return { rgb: plate, seenFraction: seen / pixels, change: count ? difference / count : 0 };
}

/** A frame's torso over the background plate: torso coverage of the frame's colour, the rest the plate's. */
export function torsoPlate(frame: Uint8Array, torso: Uint8Array, background: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length);
  for (let i = 0; i < torso.length; i++) {
    const a = (torso[i] as number) / 255;
    for (let ch = 0; ch < 3; ch++) {
      const o = 3 * i + ch;
      out[o] = Math.round(a * (frame[o] as number) + (1 - a) * (background[o] as number));
    }
  }
  return out;
}
