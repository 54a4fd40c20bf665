// BlazeFace (the 256² "back camera" model, good for faces down to ~1/10 of the frame): face boxes and six keypoints
// (subject's right eye, left eye, nose tip, mouth centre, right ear, left ear) on the whole frame, letterboxed to a
// square so faces keep their aspect ratio.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { type RgbFrame, type Roi, samplePatch } from './image-warp.js';

const INPUT = 256;
/** Anchor layout of the 256² model: a 16×16 grid with 2 anchors per cell, then an 8×8 grid with 6 per cell. */
const LAYERS = [
  { stride: 16, perCell: 2 },
  { stride: 32, perCell: 6 },
];
const KEYPOINTS = 6;

export interface FaceDetection {
  /** Box centre and size, source pixels. */
  cx: number;
  cy: number;
  width: number;
  height: number;
  /** Six keypoints [x, y], source pixels. */
  keypoints: [number, number][];
  score: number;
}

function anchorCentres(): Float32Array {
  const out: number[] = [];
  for (const { stride, perCell } of LAYERS) {
    const cells = INPUT / stride;
    for (let y = 0; y < cells; y++)
      for (let x = 0; x < cells; x++)
        for (let a = 0; a < perCell; a++) out.push((x + 0.5) * stride, (y + 0.5) * stride);
  }
  return Float32Array.from(out);
}

const iou = (a: FaceDetection, b: FaceDetection): number => {
  const w = Math.min(a.cx + a.width / 2, b.cx + b.width / 2) - Math.max(a.cx - a.width / 2, b.cx - b.width / 2);
  const h = Math.min(a.cy + a.height / 2, b.cy + b.height / 2) - Math.max(a.cy - a.height / 2, b.cy - b.height / 2);
  const inter = Math.max(0, w) * Math.max(0, h);
  return inter / (a.width * a.height + b.width * b.height - inter);
};

export class FaceDetector {
  private readonly anchors = anchorCentres();
  private readonly patch = new Float32Array(INPUT * INPUT * 3);

  constructor(
    private readonly model: GraphModel,
    /** Detections below this score are ignored. */
    readonly minScore = 0.5,
    /** Overlapping boxes (intersection over union above this) are one face. */
    readonly overlap = 0.3,
  ) {}

  /** Faces in the frame, best first. */
  async detect(frame: RgbFrame): Promise<FaceDetection[]> {
    const side = Math.max(frame.width, frame.height);
    const roi: Roi = { cx: frame.width / 2, cy: frame.height / 2, size: side, angle: 0 };
    samplePatch(frame, roi, INPUT, 2 / 255, -1, false, this.patch);
    const input = tf.tensor4d(this.patch, [1, INPUT, INPUT, 3]);
    const outputs = this.model.execute(input) as tf.Tensor[];
    input.dispose();
    // Four outputs: scores and regressors for the 512 anchors of layer 1 and the 384 of layer 2.
    const bySize = [...outputs].sort((a, b) => a.size - b.size);
    const [scores384, scores512, reg384, reg512] = await Promise.all(
      bySize.map((t) => t.data() as Promise<Float32Array>),
    );
    tf.dispose(outputs);
    const toSource = side / INPUT;
    const [originX, originY] = [(frame.width - side) / 2, (frame.height - side) / 2];
    const candidates: FaceDetection[] = [];
    const take = (scores: Float32Array, reg: Float32Array, first: number) => {
      for (let i = 0; i < scores.length; i++) {
        const score = 1 / (1 + Math.exp(-(scores[i] as number)));
        if (score < this.minScore) continue;
        const ax = this.anchors[2 * (first + i)] as number;
        const ay = this.anchors[2 * (first + i) + 1] as number;
        const r = reg.subarray(i * 16, i * 16 + 16);
        const keypoints: [number, number][] = [];
        for (let k = 0; k < KEYPOINTS; k++)
          keypoints.push([
            originX + (ax + (r[4 + 2 * k] as number)) * toSource,
            originY + (ay + (r[5 + 2 * k] as number)) * toSource,
          ]);
        candidates.push({
          cx: originX + (ax + (r[0] as number)) * toSource,
          cy: originY + (ay + (r[1] as number)) * toSource,
          width: (r[2] as number) * toSource,
          height: (r[3] as number) * toSource,
          keypoints,
          score,
        });
      }
    };
    take(scores512 as Float32Array, reg512 as Float32Array, 0);
    take(scores384 as Float32Array, reg384 as Float32Array, 512);
    candidates.sort((a, b) => b.score - a.score);
    const kept: FaceDetection[] = [];
    for (const c of candidates) if (kept.every((k) => iou(k, c) <= this.overlap)) kept.push(c);
    return kept;
  }
}

/** The face-landmark region for a detection: square, 1.5× the box, rotated so the eye line is horizontal. */
export function detectionRoi(d: FaceDetection): Roi {
  const [right, left] = d.keypoints as [[number, number], [number, number]];
  return {
    cx: d.cx,
    cy: d.cy,
    size: 1.5 * Math.max(d.width, d.height),
    angle: Math.atan2(left[1] - right[1], left[0] - right[0]),
  };
}
