// Face tracking through a clip, frame by frame: the mesh region follows the previous frame's landmarks (steady crop,
// steady landmarks); the detector runs every few frames to count faces and whenever the face is lost.
import { detectionRoi, type FaceDetection, FaceDetector } from './face-detector.js';
import { FaceMesh, landmarkRoi } from './face-mesh.js';
import { type FaceModels, loadFaceModels } from './face-models.js';
import type { RgbFrame, Roi } from './image-warp.js';

export interface TrackerOptions {
  /** The detector runs on every n-th frame (and whenever the face was lost). */
  detectEvery?: number;
  /** FaceMesh presence score below which the face counts as lost. */
  minFaceScore?: number;
  /** Detector score for a face to count. */
  minDetectionScore?: number;
  /** A second face counts only if it is at least this fraction of the tracked face's size (ignores faces far back). */
  minSecondFaceSize?: number;
}

export interface FrameObservation {
  /** [478, 2] source pixels, or null when no face was found. */
  landmarks: Float32Array | null;
  /** FaceMesh presence score (0 when no face). */
  score: number;
  /** Faces the detector counted, or null when it did not run on this frame. */
  faces: number | null;
}

const DEFAULTS: Required<TrackerOptions> = {
  detectEvery: 5,
  minFaceScore: 0.5,
  minDetectionScore: 0.6,
  minSecondFaceSize: 0.35,
};

const roiOverlaps = (roi: Roi, d: FaceDetection) =>
  Math.hypot(roi.cx - d.cx, roi.cy - d.cy) < roi.size / 2 && Math.max(d.width, d.height) > roi.size / 4;

export class FaceTracker {
  private readonly options: Required<TrackerOptions>;
  private readonly detector: FaceDetector;
  private readonly mesh: FaceMesh;
  private roi: Roi | null = null;
  private frameIndex = 0;

  constructor(models: FaceModels, options: TrackerOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.detector = new FaceDetector(models.detector, this.options.minDetectionScore);
    this.mesh = new FaceMesh(models.mesh, models.iris);
  }

  static async create(options: TrackerOptions = {}): Promise<FaceTracker> {
    return new FaceTracker(await loadFaceModels(), options);
  }

  async track(frame: RgbFrame): Promise<FrameObservation> {
    const scheduled = this.frameIndex++ % this.options.detectEvery === 0;
    let detections = scheduled || !this.roi ? await this.detector.detect(frame) : null;
    let faces = detections ? this.countFaces(detections) : null;
    let roi = this.roi ?? (detections ? this.pick(detections) : null);
    if (!roi) return { landmarks: null, score: 0, faces };
    let result = await this.mesh.landmarks(frame, roi);
    if (result.score < this.options.minFaceScore) {
      // Lost from the tracked region: look for the face anew (once) before giving up on this frame.
      detections ??= await this.detector.detect(frame);
      faces ??= this.countFaces(detections);
      const fresh = this.roi ? this.pick(detections) : null;
      if (fresh) {
        roi = fresh;
        result = await this.mesh.landmarks(frame, roi);
      }
    }
    if (result.score < this.options.minFaceScore) {
      this.roi = null;
      return { landmarks: null, score: result.score, faces };
    }
    this.roi = landmarkRoi(result.points);
    return { landmarks: result.points, score: result.score, faces };
  }

  /** The detection to track: the one on the current face if any, else the largest. */
  private pick(detections: FaceDetection[]): Roi | null {
    const roi = this.roi;
    const current = roi ? detections.find((d) => roiOverlaps(roi, d)) : undefined;
    const largest = [...detections].sort((a, b) => b.width * b.height - a.width * a.height)[0];
    const chosen = current ?? largest;
    return chosen ? detectionRoi(chosen) : null;
  }

  private countFaces(detections: FaceDetection[]): number {
    const largest = Math.max(0, ...detections.map((d) => Math.max(d.width, d.height)));
    return detections.filter((d) => Math.max(d.width, d.height) >= this.options.minSecondFaceSize * largest).length;
  }
}
