// Hair that hangs below the head/torso cut (long hair beside the neck and over the shoulders). The person matte does
// not tell hair from clothing, so the masks' cut along the jaw would give such hair to the torso; face parsing, which
// the official pipeline uses, counts it as head. Here a pixel below the cut is hair when its colour is far more
// typical of the frame's hair than of its torso, and it is connected to the head through such pixels:
// - hair colours: person pixels above the eyes, outside the (enlarged) face outline, where only hair (or scalp) is;
// - torso colours: person pixels below the cut between the jaw's ends (neck, collar, chest);
// - both as 16-level-per-channel RGB histograms, smoothed over neighbouring bins;
// - a flood fill from the head's edge through person pixels whose colour is hair-like, never entering the neck region
//   straight below the jaw; then a closing fills the fill's pinholes and a small blur softens its edge.
// Where hair and clothes share a colour, neither histogram wins and the hair stays with the torso (the old cut).

import { boxBlur, dilate, erode } from './morphology.js';

const LEVELS = 16;
const BINS = LEVELS ** 3;
/** A colour is hair-like when its hair density is at least this many times its torso density. */
const HAIR_ODDS = 3;
/** Fewest samples (fraction of the frame) of each colour model for the extension to run. */
const MIN_SAMPLES = 0.002;
/** Closing radius and edge blur, pixels per 512 of frame size. */
const CLOSE = 3;
const SOFT = 2;

export interface HairRegions {
  /** Person matte, 0..1 (the face counted in). */
  body: Float32Array;
  /** Coverage of the region above the cut (the head's side). */
  above: Float32Array;
  /** Coverage of the face outline enlarged (pixels near the face are not hair samples). */
  faceGrown: Float32Array;
  /** Pixel rows above this are hair-sample rows (the eye line). */
  sampleRowsEnd: number;
  /** Columns [first, end) of the neck region below the cut (between the jaw's ends). */
  neck: [number, number];
}

const binOf = (rgb: Uint8Array, i: number) =>
  (((rgb[3 * i] as number) >> 4) << 8) | (((rgb[3 * i + 1] as number) >> 4) << 4) | ((rgb[3 * i + 2] as number) >> 4);

/** 3x3x3 box blur of a LEVELS³ histogram, then normalised to sum 1. */
function smoothDensity(hist: Float32Array): Float32Array {
  let cur = hist;
  for (const stride of [1, LEVELS, LEVELS * LEVELS]) {
    const next = new Float32Array(BINS);
    for (let b = 0; b < BINS; b++) {
      const level = Math.floor(b / stride) % LEVELS;
      let sum = cur[b] as number;
      if (level > 0) sum += cur[b - stride] as number;
      if (level < LEVELS - 1) sum += cur[b + stride] as number;
      next[b] = sum;
    }
    cur = next;
  }
  const total = cur.reduce((a, v) => a + v, 0);
  return total > 0 ? cur.map((v) => v / total) : cur;
}

/** Person pixels below the cut, outside the neck, whose colour is hair-like, connected to the head through such
 * pixels (flood fill from those touching the head). */
function grow(rgb: Uint8Array, size: number, regions: HairRegions, hair: Float32Array, torso: Float32Array) {
  const { body, above, neck } = regions;
  const pixels = size * size;
  const candidate = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    if ((body[i] as number) < 0.5 || (above[i] as number) >= 0.5) continue;
    const x = i % size;
    if (x >= neck[0] && x < neck[1]) continue;
    const b = binOf(rgb, i);
    if ((hair[b] as number) > HAIR_ODDS * (torso[b] as number)) candidate[i] = 1;
  }
  const filled = new Uint8Array(pixels);
  const queue = new Int32Array(pixels);
  let [head, tail] = [0, 0];
  const isHead = (j: number) => (above[j] as number) >= 0.5 && (body[j] as number) >= 0.5;
  for (let i = 0; i < pixels; i++) {
    if (!candidate[i]) continue;
    const x = i % size;
    const touches =
      (x > 0 && isHead(i - 1)) ||
      (x < size - 1 && isHead(i + 1)) ||
      (i >= size && isHead(i - size)) ||
      (i + size < pixels && isHead(i + size));
    if (!touches) continue;
    filled[i] = 1;
    queue[tail++] = i;
  }
  while (head < tail) {
    const i = queue[head++] as number;
    const x = i % size;
    for (const j of [x > 0 ? i - 1 : -1, x < size - 1 ? i + 1 : -1, i - size, i + size]) {
      if (j < 0 || j >= pixels || filled[j] || !candidate[j]) continue;
      filled[j] = 1;
      queue[tail++] = j;
    }
  }
  return { filled, count: tail };
}

/**
 * Coverage (0..1) of hair below the cut, size x size; all zero when the frame has too few hair or torso samples to
 * tell them apart. `rgb`: the frame, size x size x 3.
 */
export function hairBelowCut(rgb: Uint8Array, size: number, regions: HairRegions): Float32Array {
  const { body, above, faceGrown, sampleRowsEnd, neck } = regions;
  const pixels = size * size;
  const hairHist = new Float32Array(BINS);
  const torsoHist = new Float32Array(BINS);
  let [hairCount, torsoCount] = [0, 0];
  for (let i = 0; i < pixels; i++) {
    if ((body[i] as number) < 0.9) continue;
    const [x, y] = [i % size, Math.floor(i / size)];
    const b = binOf(rgb, i);
    if (y < sampleRowsEnd && (above[i] as number) > 0.999 && (faceGrown[i] as number) < 0.001) {
      hairHist[b] = (hairHist[b] as number) + 1;
      hairCount++;
    } else if ((above[i] as number) < 0.001 && x >= neck[0] && x < neck[1]) {
      torsoHist[b] = (torsoHist[b] as number) + 1;
      torsoCount++;
    }
  }
  if (hairCount < MIN_SAMPLES * pixels || torsoCount < MIN_SAMPLES * pixels) return new Float32Array(pixels);
  const torso = smoothDensity(torsoHist);
  let found = grow(rgb, size, regions, smoothDensity(hairHist), torso);
  if (found.count === 0) return new Float32Array(pixels);
  // Second round: the hair found joins the samples (its lighter tips and shadows are not all above the eyes).
  for (let i = 0; i < pixels; i++)
    if (found.filled[i]) hairHist[binOf(rgb, i)] = (hairHist[binOf(rgb, i)] as number) + 1;
  found = grow(rgb, size, regions, smoothDensity(hairHist), torso);
  // Closed and softened together with the head above the cut, so the two meet without a seam.
  const map = found.filled;
  for (let i = 0; i < pixels; i++) if ((above[i] as number) >= 0.5 && (body[i] as number) >= 0.5) map[i] = 1;
  const scale = size / 512;
  const close = Math.max(1, Math.round(CLOSE * scale));
  return boxBlur(erode(dilate(map, size, close), size, close), size, Math.max(1, Math.round(SOFT * scale)));
}
