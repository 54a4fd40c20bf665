// The photometric loss's per-pixel weights when the lips count extra: 1 everywhere, 1 + weight in a box round the
// lips (their landmarks' bounds, padded). Why: the lips are a few hundred of a frame's quarter-million pixels, so an
// unweighted loss may overlook a mouth that barely moves (TalkingGaussian adds a loss on a lips patch). Off by
// default: on german_anchor_20s it did not make the mouth follow new speech (docs/quality.md).
import { OUTER_LIPS } from '../prepare/landmarks.js';

/** Padding of the box on every side, as a fraction of the lips' width: takes in the philtrum and the chin's crease. */
const PAD = 0.25;

/**
 * Weights [size * size] for one frame; `landmarks` are the frame's 478 points (x, y pairs) at the training size.
 * Box edges are fractional: edge pixels get the covered part of the extra weight, so the map moves smoothly with
 * the landmarks.
 */
export function lipWeightMap(landmarks: Float32Array, size: number, weight: number): Float32Array {
  if (!(weight >= 0)) throw new RangeError(`lip weight must be >= 0, got ${weight}`);
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const i of OUTER_LIPS) {
    const x = landmarks[2 * i] as number;
    const y = landmarks[2 * i + 1] as number;
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  const pad = PAD * (x1 - x0);
  [x0, y0, x1, y1] = [x0 - pad, y0 - pad, x1 + pad, y1 + pad];
  const out = new Float32Array(size * size).fill(1);
  /** How much of pixel p (covering p..p+1) lies inside lo..hi. */
  const cover = (lo: number, hi: number, p: number) => Math.max(0, Math.min(hi, p + 1) - Math.max(lo, p));
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(size, Math.ceil(y1)); y++)
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(size, Math.ceil(x1)); x++)
      out[y * size + x] = 1 + weight * cover(y0, y1, y) * cover(x0, x1, x);
  return out;
}
