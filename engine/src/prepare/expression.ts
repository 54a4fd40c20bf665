// Expression signals from the face mesh, standing in for OpenFace's AU01, AU04, AU05, AU06, AU07 and AU45 (blink)
// and, for sampling training frames, AU25 (mouth openness). docs/dataset-format.md ("Expression signals") gives the
// definitions; this file is their implementation. Measures are taken on frontalised landmarks so that head turns and
// nods do not read as expressions, then referred to the clip's own neutral (its median frame) as OpenFace's
// person-specific normalisation does.
import type { CanonicalFace } from './canonical-face.js';
import { INNER_LIP_LOWER, INNER_LIP_UPPER } from './landmarks.js';

export const EXPRESSION_DEFINITION = 1;
/** The per-frame expression vector: [AU01, AU04, AU05, AU06, AU07, blink]. */
export const EXPRESSION_SIGNALS = ['AU01', 'AU04', 'AU05', 'AU06', 'AU07', 'AU45'] as const;
export const AU_MAX = 5;
export const BLINK_MAX = 2;

/** Landmarks of each eye and brow, [right, left] (the subject's). */
const EYE = {
  outer: [33, 263],
  inner: [133, 362],
  upperLid: [159, 386],
  lowerLid: [145, 374],
  innerBrow: [
    [55, 107],
    [285, 336],
  ],
} as const;
/** Gains: signal units per unit of D (the canonical outer-eye-corner distance). Fixed, not per clip, so that a
 * signal means the same movement for every person (a still face must not have its noise scaled up). */
const GAIN = { brow: 25, browGap: 25, lid: 40, mouth: 15 } as const;
/** The clip's percentile of eye aperture taken as "open" for the blink. */
const OPEN_PERCENTILE = 0.9;
/** Blink gain on the aperture's fractional drop: the mesh's lids close only to about 55-60 % of the open aperture
 * on a full blink (seen on may_5s and vr_face1_6s), so a 45 % drop reads as a closed eye (about 2). */
const BLINK_GAIN = 4;

/** Raw measures of one frame, lengths in units of D. */
export interface FaceMeasures {
  /** Inner-brow height above the inner eye corner (mean of both sides). */
  brow: number;
  /** Horizontal gap between the inner brows. */
  browGap: number;
  /** Upper-lid height above the eye corners' midpoint. */
  upperLid: number;
  /** Lower-lid depth below the eye corners' midpoint. */
  lowerLid: number;
  /** Eye aperture, lower lid to upper lid. */
  aperture: number;
  /** Inner-lip gap, upper to lower lip midpoints. */
  mouth: number;
}

export interface ExpressionTrack {
  /** Per frame [AU01, AU04, AU05, AU06, AU07, blink], or null where there are no landmarks. */
  expression: (number[] | null)[];
  /** Per frame the AU25 stand-in, or null. */
  mouthOpen: (number | null)[];
  measures: (FaceMeasures | null)[];
}

/**
 * A landmark in head space: the point on its camera ray at the depth that canonical vertex `vertex` has under the
 * frame's pose, taken back through the pose. `pose` is head-to-camera, row-major 4x4.
 */
export function frontalise(
  face: CanonicalFace,
  pose: readonly number[],
  focal: number,
  centre: number,
  u: number,
  v: number,
  vertex: number,
): [number, number, number] {
  const p = (i: number) => pose[i] as number;
  const [x, y, z] = [0, 1, 2].map((k) => face.vertices[3 * vertex + k] as number) as [number, number, number];
  const depth = p(8) * x + p(9) * y + p(10) * z + p(11);
  const c = [((u - centre) / focal) * depth - p(3), ((v - centre) / focal) * depth - p(7), depth - p(11)];
  // R^T (c - t)
  return [0, 1, 2].map((k) => p(k) * (c[0] as number) + p(4 + k) * (c[1] as number) + p(8 + k) * (c[2] as number)) as [
    number,
    number,
    number,
  ];
}

/** Raw measures of one frame from its landmarks (pixels of the dataset frame) and camera. */
export function faceMeasures(
  face: CanonicalFace,
  landmarks: ArrayLike<number>,
  pose: readonly number[],
  focal: number,
  centre: number,
): FaceMeasures {
  const v = face.vertices;
  const unit = Math.hypot(
    (v[3 * 33] as number) - (v[3 * 263] as number),
    (v[3 * 33 + 1] as number) - (v[3 * 263 + 1] as number),
    (v[3 * 33 + 2] as number) - (v[3 * 263 + 2] as number),
  );
  const at = (i: number) =>
    frontalise(face, pose, focal, centre, landmarks[2 * i] as number, landmarks[2 * i + 1] as number, i).map(
      (c) => c / unit,
    ) as [number, number, number];
  const y = (i: number) => at(i)[1];
  const mean = (f: (side: 0 | 1) => number) => (f(0) + f(1)) / 2;
  const cornerY = (s: 0 | 1) => (y(EYE.outer[s]) + y(EYE.inner[s])) / 2;
  const [upper, lower] = [at(INNER_LIP_UPPER), at(INNER_LIP_LOWER)];
  return {
    brow: mean((s) => y(EYE.inner[s]) - (y(EYE.innerBrow[s][0]) + y(EYE.innerBrow[s][1])) / 2),
    browGap:
      (at(EYE.innerBrow[1][0])[0] +
        at(EYE.innerBrow[1][1])[0] -
        at(EYE.innerBrow[0][0])[0] -
        at(EYE.innerBrow[0][1])[0]) /
      2,
    upperLid: mean((s) => cornerY(s) - y(EYE.upperLid[s])),
    lowerLid: mean((s) => y(EYE.lowerLid[s]) - cornerY(s)),
    aperture: mean((s) => y(EYE.lowerLid[s]) - y(EYE.upperLid[s])),
    mouth: Math.hypot(lower[0] - upper[0], lower[1] - upper[1], lower[2] - upper[2]),
  };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + (at - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

const clip = (value: number, max: number) => Math.min(max, Math.max(0, value));

/** The clip's expression signals (definition 1), from per-frame landmarks and poses (null where dropped). */
export function expressionTrack(
  face: CanonicalFace,
  landmarks: (ArrayLike<number> | null)[],
  poses: (readonly number[] | null)[],
  focal: number,
  size: number,
): ExpressionTrack {
  const measures = landmarks.map((l, t) => {
    const pose = poses[t];
    return l && pose ? faceMeasures(face, l, pose, focal, size / 2) : null;
  });
  const present = measures.filter((m): m is FaceMeasures => m !== null);
  if (present.length === 0) throw new RangeError('expressionTrack: no frame has landmarks and a pose');
  const median = (key: keyof FaceMeasures) =>
    quantile(
      present.map((m) => m[key]),
      0.5,
    );
  const neutral = {
    brow: median('brow'),
    browGap: median('browGap'),
    upperLid: median('upperLid'),
    lowerLid: median('lowerLid'),
    aperture: median('aperture'),
  };
  const open = quantile(
    present.map((m) => m.aperture),
    OPEN_PERCENTILE,
  );
  return {
    measures,
    expression: measures.map((m) =>
      m
        ? [
            clip(GAIN.brow * (m.brow - neutral.brow), AU_MAX),
            clip(GAIN.brow * (neutral.brow - m.brow) + GAIN.browGap * (neutral.browGap - m.browGap), AU_MAX),
            clip(GAIN.lid * (m.upperLid - neutral.upperLid), AU_MAX),
            clip(GAIN.lid * (neutral.lowerLid - m.lowerLid), AU_MAX),
            clip(GAIN.lid * (neutral.aperture - m.aperture), AU_MAX),
            clip(BLINK_GAIN * (1 - m.aperture / open), BLINK_MAX),
          ]
        : null,
    ),
    mouthOpen: measures.map((m) => (m ? clip(GAIN.mouth * m.mouth, AU_MAX) : null)),
  };
}
