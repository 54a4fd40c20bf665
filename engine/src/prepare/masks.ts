// Per-frame masks (docs/dataset-format.md, "Masks and plates"): the person matte from segmentation split into head
// and torso by a cut along the jaw, plus the face and inside-mouth polygons of the mesh. All 8-bit coverage at the
// dataset size, built so that head + torso + background = 255 exactly, mouth <= face <= head.

import { CHIN, FACE_OVAL, INNER_LIPS, JAW, LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS } from './landmarks.js';
import { fillPolygon } from './raster.js';

export const MASK_KINDS = ['head', 'face', 'mouth', 'torso', 'background'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];
export type FrameMasks = Record<MaskKind, Uint8Array>;

/** The cut runs this fraction of the face's height (forehead top to chin) below the jaw line, so the jaw's edge,
 * which the mesh outline follows from just inside, stays in the head. */
const JAW_MARGIN = 0.03;
/** Width of the strips beside the jaw that stay in the head down to the chin's height, in face widths. */
const EAR_REACH = 0.2;
const FOREHEAD = 10;

const pointsOf = (landmarks: ArrayLike<number>, indices: readonly number[]): number[] =>
  indices.flatMap((i) => [landmarks[2 * i] as number, landmarks[2 * i + 1] as number]);

/**
 * The region above the neck, as a polygon in pixels: the jaw outline from one ear level round the chin to the other,
 * lowered by the margin (along the face's own vertical). Beside the jaw, a strip of EAR_REACH face widths keeps the
 * cut at the chin's height (ears, earrings and hair by the cheeks stay in the head); farther out it rises to the jaw
 * ends' height, so that shoulders level with a low chin stay in the torso. The polygon closes far above the frame.
 */
export function aboveNeckPolygon(landmarks: ArrayLike<number>, size: number): number[] {
  const at = (i: number): [number, number] => [landmarks[2 * i] as number, landmarks[2 * i + 1] as number];
  const [r, l] = [at(RIGHT_EYE_CORNERS[0]), at(LEFT_EYE_CORNERS[0])];
  const eye = Math.hypot(l[0] - r[0], l[1] - r[1]);
  // The face's downward axis: perpendicular to the eye line.
  const down: [number, number] = [-(l[1] - r[1]) / eye, (l[0] - r[0]) / eye];
  const [chin, forehead] = [at(CHIN), at(FOREHEAD)];
  const margin = JAW_MARGIN * Math.abs((chin[0] - forehead[0]) * down[0] + (chin[1] - forehead[1]) * down[1]);
  const jaw = JAW.map((i) => {
    const [x, y] = at(i);
    return [x + margin * down[0], y + margin * down[1]] as [number, number];
  });
  // The jaw runs from the subject's left (454, the image's right) to the right (234, the image's left).
  const [left, right] = [jaw[0] as [number, number], jaw[jaw.length - 1] as [number, number]];
  const reach = EAR_REACH * Math.abs(left[0] - right[0]);
  const cut = chin[1] + margin;
  const [cutLeft, cutRight] = [Math.max(cut, left[1]), Math.max(cut, right[1])];
  const far = 4 * size;
  return [
    ...jaw.flat(),
    ...[right[0], cutRight, right[0] - reach, cutRight, right[0] - reach, right[1], -far, right[1], -far, -far],
    ...[size + far, -far, size + far, left[1], left[0] + reach, left[1], left[0] + reach, cutLeft, left[0], cutLeft],
  ];
}

/** Builds the masks of frames of one size, reusing its scratch buffers. */
export class MaskBuilder {
  private readonly face: Float32Array;
  private readonly mouth: Float32Array;
  private readonly above: Float32Array;

  constructor(readonly size: number) {
    this.face = new Float32Array(size * size);
    this.mouth = new Float32Array(size * size);
    this.above = new Float32Array(size * size);
  }

  /** `person`: the matte (0..1, size x size); `landmarks`: pixels, or null for a frame without a face. */
  build(person: Float32Array, landmarks: ArrayLike<number> | null): FrameMasks {
    const pixels = this.size * this.size;
    const masks = Object.fromEntries(MASK_KINDS.map((k) => [k, new Uint8Array(pixels)])) as FrameMasks;
    if (landmarks) {
      fillPolygon(this.face, this.size, pointsOf(landmarks, FACE_OVAL));
      fillPolygon(this.mouth, this.size, pointsOf(landmarks, INNER_LIPS));
      fillPolygon(this.above, this.size, aboveNeckPolygon(landmarks, this.size));
    } else {
      this.face.fill(0);
      this.mouth.fill(0);
      this.above.fill(0);
    }
    for (let i = 0; i < pixels; i++) {
      const face = Math.min(1, this.face[i] as number);
      // The face counts as person even where the matte misses it, so the three-way split stays exact.
      const body = Math.max(Math.min(1, Math.max(0, person[i] as number)), face);
      const head = Math.max(body * Math.min(1, this.above[i] as number), face);
      const [body8, head8, face8] = [Math.round(255 * body), Math.round(255 * head), Math.round(255 * face)];
      masks.head[i] = head8;
      masks.face[i] = face8;
      masks.mouth[i] = Math.min(face8, Math.round(255 * Math.min(1, this.mouth[i] as number)));
      masks.torso[i] = body8 - head8;
      masks.background[i] = 255 - body8;
    }
    return masks;
  }
}
