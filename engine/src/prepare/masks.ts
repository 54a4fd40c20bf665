// Per-frame masks (docs/dataset-format.md, "Masks and plates"): the person matte from segmentation split into head
// and torso by a cut along the jaw (plus the hair that hangs below it, hair.ts), and the face and inside-mouth
// polygons of the mesh. All 8-bit coverage at the dataset size, built so that head + torso + background = 255
// exactly, mouth <= face <= head.

import { hairBelowCut } from './hair.js';
import { CHIN, FACE_OVAL, INNER_LIPS, JAW, LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS } from './landmarks.js';
import { fillPolygon } from './raster.js';

export const MASK_KINDS = ['head', 'face', 'mouth', 'torso', 'background'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];
export type FrameMasks = Record<MaskKind, Uint8Array>;

/** The cut runs this fraction of the face's height (forehead top to chin) below the jaw line, so the jaw's edge,
 * which the mesh outline follows from just inside, stays in the head. */
const JAW_MARGIN = 0.03;
/** The strips beside the jaw that stay in the head below the jaw's ends (ears, lobes, earrings): their width in
 * face widths, and how far down they reach, as a fraction of the way from the jaw's end to the cut at the chin
 * (further down, shoulders begin in tightly framed clips). */
const EAR_REACH = 0.2;
const EAR_DROP = 0.5;
/** The face outline enlarged by this factor about its centre: no hair colour is sampled inside it. */
const FACE_GROWN = 1.25;
const FOREHEAD = 10;

const pointsOf = (landmarks: ArrayLike<number>, indices: readonly number[]): number[] =>
  indices.flatMap((i) => [landmarks[2 * i] as number, landmarks[2 * i + 1] as number]);

/** The face's downward axis (perpendicular to the eye line) and its height along it. */
function faceAxes(landmarks: ArrayLike<number>): { down: [number, number]; height: number } {
  const at = (i: number): [number, number] => [landmarks[2 * i] as number, landmarks[2 * i + 1] as number];
  const [r, l] = [at(RIGHT_EYE_CORNERS[0]), at(LEFT_EYE_CORNERS[0])];
  const eye = Math.hypot(l[0] - r[0], l[1] - r[1]);
  const down: [number, number] = [-(l[1] - r[1]) / eye, (l[0] - r[0]) / eye];
  const [chin, forehead] = [at(CHIN), at(FOREHEAD)];
  return { down, height: Math.abs((chin[0] - forehead[0]) * down[0] + (chin[1] - forehead[1]) * down[1]) };
}

/**
 * The region above the neck, as a polygon in pixels: the jaw outline from one ear level round the chin to the other,
 * lowered by the margin (along the face's own vertical). Beside the jaw, a strip of EAR_REACH face widths keeps the
 * ears in the head down to EAR_DROP of the way to the chin's height (the strip's inner edge is the jaw itself, so
 * lobes and earrings just outside the jaw stay in); farther out the cut rises to the jaw ends' height, so that
 * shoulders stay in the torso. The polygon closes far above the frame.
 */
export function aboveNeckPolygon(landmarks: ArrayLike<number>, size: number): number[] {
  const { down, height } = faceAxes(landmarks);
  const margin = JAW_MARGIN * height;
  const jaw = JAW.map((i) => {
    const [x, y] = [landmarks[2 * i] as number, landmarks[2 * i + 1] as number];
    return [x + margin * down[0], y + margin * down[1]] as [number, number];
  });
  // The jaw runs from the subject's left (454, the image's right) to the right (234, the image's left).
  const [left, right] = [jaw[0] as [number, number], jaw[jaw.length - 1] as [number, number]];
  const reach = EAR_REACH * Math.abs(left[0] - right[0]);
  const cut = (landmarks[2 * CHIN + 1] as number) + margin;
  const [dropLeft, dropRight] = [left, right].map((end) => end[1] + EAR_DROP * Math.max(0, cut - end[1])) as [
    number,
    number,
  ];
  // The part of the jaw below the strips' bottoms, from where it crosses one to where it crosses the other.
  let first = jaw.findIndex((p) => p[1] >= dropLeft);
  let last = jaw.length - 1;
  while (last >= 0 && (jaw[last] as [number, number])[1] < dropRight) last--;
  if (first < 1 || last > jaw.length - 2 || last < first) [first, last] = [0, jaw.length - 1];
  const crossing = (a: [number, number], b: [number, number], y: number) => {
    const f = b[1] === a[1] ? 0 : (y - a[1]) / (b[1] - a[1]);
    return [a[0] + f * (b[0] - a[0]), y];
  };
  const lower = jaw.slice(first, last + 1).flat();
  const ends =
    first === 0
      ? { start: [left[0], dropLeft], end: [right[0], dropRight] }
      : {
          start: crossing(jaw[first - 1] as [number, number], jaw[first] as [number, number], dropLeft),
          end: crossing(jaw[last] as [number, number], jaw[last + 1] as [number, number], dropRight),
        };
  const far = 4 * size;
  return [
    ...(first === 0 ? [] : ends.start),
    ...lower,
    ...ends.end,
    ...[right[0] - reach, dropRight, right[0] - reach, right[1], -far, right[1], -far, -far],
    ...[size + far, -far, size + far, left[1], left[0] + reach, left[1], left[0] + reach, dropLeft],
    ...(first === 0 ? ends.start : []),
  ];
}

/** The face outline scaled about its centre. */
function grownFace(landmarks: ArrayLike<number>): number[] {
  const points = pointsOf(landmarks, FACE_OVAL);
  const n = points.length / 2;
  let [cx, cy] = [0, 0];
  for (let i = 0; i < n; i++) [cx, cy] = [cx + (points[2 * i] as number) / n, cy + (points[2 * i + 1] as number) / n];
  return points.map((v, i) => (i % 2 === 0 ? cx : cy) + FACE_GROWN * (v - (i % 2 === 0 ? cx : cy)));
}

/** Builds the masks of frames of one size, reusing its scratch buffers. */
export class MaskBuilder {
  private readonly face: Float32Array;
  private readonly faceGrown: Float32Array;
  private readonly mouth: Float32Array;
  private readonly above: Float32Array;
  private readonly body: Float32Array;

  constructor(readonly size: number) {
    const pixels = size * size;
    [this.face, this.faceGrown, this.mouth, this.above, this.body] = Array.from(
      { length: 5 },
      () => new Float32Array(pixels),
    ) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  }

  /**
   * `person`: the matte (0..1, size x size); `landmarks`: pixels, or null for a frame without a face; `rgb`: the
   * frame (size x size x 3), whose colours tell hair below the cut from the torso.
   */
  build(person: Float32Array, landmarks: ArrayLike<number> | null, rgb: Uint8Array): FrameMasks {
    const { size, face, mouth, above, body } = this;
    const pixels = size * size;
    const masks = Object.fromEntries(MASK_KINDS.map((k) => [k, new Uint8Array(pixels)])) as FrameMasks;
    if (landmarks) {
      fillPolygon(face, size, pointsOf(landmarks, FACE_OVAL));
      fillPolygon(mouth, size, pointsOf(landmarks, INNER_LIPS));
      fillPolygon(above, size, aboveNeckPolygon(landmarks, size));
    } else {
      face.fill(0);
      mouth.fill(0);
      above.fill(0);
    }
    // The face counts as person even where the matte misses it, so the three-way split stays exact.
    for (let i = 0; i < pixels; i++)
      body[i] = Math.max(Math.min(1, Math.max(0, person[i] as number)), Math.min(1, face[i] as number));
    const hair = landmarks ? this.hair(landmarks, rgb) : null;
    for (let i = 0; i < pixels; i++) {
      const f = Math.min(1, face[i] as number);
      const b = body[i] as number;
      const side = Math.max(Math.min(1, above[i] as number), hair ? (hair[i] as number) : 0);
      const [body8, head8, face8] = [Math.round(255 * b), Math.round(255 * Math.max(b * side, f)), Math.round(255 * f)];
      masks.head[i] = head8;
      masks.face[i] = face8;
      masks.mouth[i] = Math.min(face8, Math.round(255 * Math.min(1, mouth[i] as number)));
      masks.torso[i] = body8 - head8;
      masks.background[i] = 255 - body8;
    }
    return masks;
  }

  private hair(landmarks: ArrayLike<number>, rgb: Uint8Array): Float32Array {
    const { size } = this;
    fillPolygon(this.faceGrown, size, grownFace(landmarks));
    const y = (i: number) => landmarks[2 * i + 1] as number;
    const [xRight, xLeft] = [JAW[JAW.length - 1] as number, JAW[0] as number].map(
      (i) => landmarks[2 * i] as number,
    ) as [number, number];
    return hairBelowCut(rgb, size, {
      body: this.body,
      above: this.above,
      faceGrown: this.faceGrown,
      sampleRowsEnd: Math.max(0, Math.floor(Math.min(y(RIGHT_EYE_CORNERS[0]), y(LEFT_EYE_CORNERS[0])))),
      neck: [Math.max(0, Math.floor(Math.min(xRight, xLeft))), Math.min(size, Math.ceil(Math.max(xRight, xLeft)))],
    });
  }
}
