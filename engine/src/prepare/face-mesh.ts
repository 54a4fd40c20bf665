// 478 face landmarks in a region: FaceMesh on an upright 192² crop gives 468 points, then Iris on a 64² crop of each
// eye adds 5 iris points per eye (MediaPipe's 478-point layout). Landmarks stay in float source pixels throughout.
// The Iris model's 71 eye-contour outputs are not used: on the test clips they came out shrunk towards the pupil
// (outer corners 5-7 px inside the visible corner at 512²), while FaceMesh's own lid contours follow the lids.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { patchToSource, type RgbFrame, type Roi, samplePatch } from './image-warp.js';
import { LANDMARKS, LEFT_EYE_CORNERS, LEFT_IRIS, MESH_POINTS, RIGHT_EYE_CORNERS, RIGHT_IRIS } from './landmarks.js';

const MESH_INPUT = 192;
const IRIS_INPUT = 64;
/** Region sizes relative to the face's landmark extent and to the eye's corner-to-corner width (MediaPipe's). */
const FACE_REGION_SCALE = 1.5;
const EYE_REGION_SCALE = 2.3;
/** Iris's outputs per eye: 71 eye-contour points, then the 5 iris points, each x, y, z in patch pixels. */
const IRIS_OUTPUT_POINTS = 76;
const IRIS_FIRST = 71;

export interface MeshResult {
  /** [LANDMARKS, 2] x, y in source pixels. */
  points: Float32Array;
  /** FaceMesh's face-presence score, 0..1. */
  score: number;
}

/**
 * The region the next frame's mesh is taken from: the landmarks' extent in the face's own upright frame (rotation
 * from the outer eye corners), squared and enlarged. Tracking from landmarks, not from fresh detections, is what
 * keeps the crop, and so the landmarks, steady.
 */
export function landmarkRoi(points: Float32Array): Roi {
  const [r, l] = [RIGHT_EYE_CORNERS[0], LEFT_EYE_CORNERS[0]];
  const angle = Math.atan2(
    (points[2 * l + 1] as number) - (points[2 * r + 1] as number),
    (points[2 * l] as number) - (points[2 * r] as number),
  );
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  let [minU, maxU, minV, maxV] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < MESH_POINTS; i++) {
    const [x, y] = [points[2 * i] as number, points[2 * i + 1] as number];
    const u = c * x + s * y;
    const v = -s * x + c * y;
    minU = Math.min(minU, u);
    maxU = Math.max(maxU, u);
    minV = Math.min(minV, v);
    maxV = Math.max(maxV, v);
  }
  const [u, v] = [(minU + maxU) / 2, (minV + maxV) / 2];
  return { cx: c * u - s * v, cy: s * u + c * v, size: FACE_REGION_SCALE * Math.max(maxU - minU, maxV - minV), angle };
}

export class FaceMesh {
  private readonly meshPatch = new Float32Array(MESH_INPUT * MESH_INPUT * 3);
  private readonly eyePatches = new Float32Array(2 * IRIS_INPUT * IRIS_INPUT * 3);

  constructor(
    private readonly mesh: GraphModel,
    private readonly iris: GraphModel,
  ) {}

  async landmarks(frame: RgbFrame, roi: Roi): Promise<MeshResult> {
    samplePatch(frame, roi, MESH_INPUT, 1 / 255, 0, false, this.meshPatch);
    const input = tf.tensor4d(this.meshPatch, [1, MESH_INPUT, MESH_INPUT, 3]);
    const outputs = this.mesh.execute(input, ['Identity_2:0', 'Identity_1:0']) as tf.Tensor[];
    input.dispose();
    const [coords, flag] = (await Promise.all(outputs.map((t) => t.data()))) as [Float32Array, Float32Array];
    tf.dispose(outputs);
    const points = new Float32Array(LANDMARKS * 2);
    for (let i = 0; i < MESH_POINTS; i++) {
      const [x, y] = patchToSource(roi, MESH_INPUT, coords[3 * i] as number, coords[3 * i + 1] as number);
      points[2 * i] = x;
      points[2 * i + 1] = y;
    }
    await this.refineEyes(frame, points, roi.angle);
    return { points, score: flag[0] as number };
  }

  /**
   * Runs Iris on both eyes in one batch. The model is trained on one eye side: the subject's left eye is mirrored
   * so both crops look like a right eye (outer corner on the crop's left), and its outputs are mirrored back.
   * Crop: centred between the eye corners, 2.3 times their distance (MediaPipe's), upright with the face.
   */
  private async refineEyes(frame: RgbFrame, points: Float32Array, angle: number): Promise<void> {
    const eyes = [
      { corners: RIGHT_EYE_CORNERS, mirror: false, iris: RIGHT_IRIS },
      { corners: LEFT_EYE_CORNERS, mirror: true, iris: LEFT_IRIS },
    ];
    const size = IRIS_INPUT * IRIS_INPUT * 3;
    const rois = eyes.map(({ corners: [outer, inner], mirror }, e) => {
      const [ox, oy] = [points[2 * outer] as number, points[2 * outer + 1] as number];
      const [ix, iy] = [points[2 * inner] as number, points[2 * inner + 1] as number];
      const roi: Roi = {
        cx: (ox + ix) / 2,
        cy: (oy + iy) / 2,
        size: EYE_REGION_SCALE * Math.hypot(ix - ox, iy - oy),
        angle,
      };
      samplePatch(frame, roi, IRIS_INPUT, 1 / 255, 0, mirror, this.eyePatches.subarray(e * size, (e + 1) * size));
      return roi;
    });
    const input = tf.tensor4d(this.eyePatches, [2, IRIS_INPUT, IRIS_INPUT, 3]);
    const output = this.iris.execute(input) as tf.Tensor;
    input.dispose();
    const data = (await output.data()) as Float32Array;
    output.dispose();
    eyes.forEach(({ mirror, iris }, e) => {
      iris.forEach((index, k) => {
        const base = (e * IRIS_OUTPUT_POINTS + IRIS_FIRST + k) * 3;
        const x = data[base] as number;
        [points[2 * index], points[2 * index + 1]] = patchToSource(
          rois[e] as Roi,
          IRIS_INPUT,
          mirror ? IRIS_INPUT - x : x,
          data[base + 1] as number,
        );
      });
    });
  }
}
