// Per-frame cameras from the landmarks: the canonical face is held fixed (canonical head space) and each frame's
// camera pose is the rigid transform that best projects the face's rigid landmarks onto the tracked ones. The focal
// length is one per clip, chosen by a search (as the official pipeline searches 600-1500 px at 512²): the focal that
// lets the rigid face explain a sample of frames with the least reprojection error. Poses are then smoothed in time
// (edge-preserving, see smoothPoses) to remove landmark jitter without smearing the head's real motion.
import type { CanonicalFace } from './canonical-face.js';
import { type PnpProblem, type Pose, projectPoint, solvePnp } from './pnp.js';

export interface HeadPoseOptions {
  /** Focal lengths searched, pixels at `size` (default 600..1500 scaled from 512²). */
  focalRange?: [number, number];
  /** Temporal smoothing of the poses: Gaussian width in frames (0: none). */
  smoothSigma?: number;
  /** Motion (pixels the rigid points move between two frames' poses) beyond which frames are not averaged. */
  smoothMotionPx?: number;
  /** Frames sampled for the focal search. */
  focalSamples?: number;
}

export interface HeadPoses {
  focal: number;
  focalRange: [number, number];
  /** Per frame: head-to-camera 4x4 row-major, or null where there are no landmarks. */
  poses: (number[] | null)[];
  /** Per posed frame: mean distance (pixels) between the rigid landmarks and the projected canonical points. */
  frameError: (number | null)[];
  reprojection: { meanPx: number; maxPx: number };
}

function problemFor(face: CanonicalFace, landmarks: Float32Array, focal: number, size: number): PnpProblem {
  const n = face.rigid.length;
  const model = new Float64Array(3 * n);
  const image = new Float64Array(2 * n);
  const weights = new Float64Array(n);
  face.rigid.forEach(({ index, weight }, k) => {
    model.set(face.vertices.subarray(3 * index, 3 * index + 3), 3 * k);
    image[2 * k] = landmarks[2 * index] as number;
    image[2 * k + 1] = landmarks[2 * index + 1] as number;
    weights[k] = weight;
  });
  return { model, image, weights, focal, cx: size / 2, cy: size / 2 };
}

function meanError(p: PnpProblem, pose: Pose): number {
  let sum = 0;
  for (let i = 0; i < p.weights.length; i++) {
    const [u, v] = projectPoint(p, pose, i);
    sum += Math.hypot(u - (p.image[2 * i] as number), v - (p.image[2 * i + 1] as number));
  }
  return sum / p.weights.length;
}

/** Solves the frames in order, each starting from the previous frame's pose (the first from a frontal guess). */
function solveSequence(
  face: CanonicalFace,
  landmarks: (Float32Array | null)[],
  focal: number,
  size: number,
): (Pose | null)[] {
  let previous: Pose | undefined;
  return landmarks.map((points) => {
    if (!points) return null;
    const problem = problemFor(face, points, focal, size);
    const pose = previous ? solvePnp(problem, previous) : solvePnp(problem);
    previous = pose;
    return pose;
  });
}

/** Focal length with the least total reprojection error over the sampled frames (grid, then golden section). */
function searchFocal(face: CanonicalFace, sample: Float32Array[], size: number, range: [number, number]): number {
  const cost = (focal: number) => {
    let sum = 0;
    solveSequence(face, sample, focal, size).forEach((pose, k) => {
      sum += meanError(problemFor(face, sample[k] as Float32Array, focal, size), pose as Pose);
    });
    return sum;
  };
  const steps = 10;
  const grid = Array.from({ length: steps + 1 }, (_, i) => range[0] + ((range[1] - range[0]) * i) / steps);
  const costs = grid.map(cost);
  const best = costs.indexOf(Math.min(...costs));
  let [lo, hi] = [grid[Math.max(0, best - 1)] as number, grid[Math.min(steps, best + 1)] as number];
  const ratio = (Math.sqrt(5) - 1) / 2;
  let [a, b] = [hi - ratio * (hi - lo), lo + ratio * (hi - lo)];
  let [costA, costB] = [cost(a), cost(b)];
  while (hi - lo > 1) {
    if (costA < costB) {
      [hi, b, costB] = [b, a, costA];
      a = hi - ratio * (hi - lo);
      costA = cost(a);
    } else {
      [lo, a, costA] = [a, b, costB];
      b = lo + ratio * (hi - lo);
      costB = cost(b);
    }
  }
  return (lo + hi) / 2;
}

export function quaternionFromMatrix(r: Float64Array): [number, number, number, number] {
  const m = (i: number) => r[i] as number;
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = [m(0), m(1), m(2), m(3), m(4), m(5), m(6), m(7), m(8)];
  const trace = m00 + m11 + m22;
  let q: [number, number, number, number];
  if (trace > 0) {
    const s = 2 * Math.sqrt(trace + 1);
    q = [s / 4, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s];
  } else if (m00 > m11 && m00 > m22) {
    const s = 2 * Math.sqrt(1 + m00 - m11 - m22);
    q = [(m21 - m12) / s, s / 4, (m01 + m10) / s, (m02 + m20) / s];
  } else if (m11 > m22) {
    const s = 2 * Math.sqrt(1 + m11 - m00 - m22);
    q = [(m02 - m20) / s, (m01 + m10) / s, s / 4, (m12 + m21) / s];
  } else {
    const s = 2 * Math.sqrt(1 + m22 - m00 - m11);
    q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, s / 4];
  }
  return q;
}

export function matrixFromQuaternion(q: readonly number[]): Float64Array {
  const n = Math.hypot(...q);
  const [w, x, y, z] = q.map((v) => v / n) as [number, number, number, number];
  return Float64Array.of(
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  );
}

/**
 * Edge-preserving temporal smoothing within each run of consecutive posed frames (never across a dropped gap): a
 * neighbour's weight is a Gaussian in time (`sigma` frames) times a Gaussian in how far its pose moves the face's
 * rigid points in the image (`motionPx`, via `distance`). Landmark jitter (a fraction of a pixel) is averaged away;
 * real head motion (pixels per frame) keeps its own pose, so fast turns are not smeared. Rotations are averaged as
 * sign-aligned quaternions, translations linearly.
 */
export function smoothPoses(
  poses: (Pose | null)[],
  sigma: number,
  motionPx: number,
  distance: (a: Pose, b: Pose) => number,
): (Pose | null)[] {
  if (sigma <= 0) return poses;
  const radius = Math.ceil(2 * sigma);
  // Sign-align quaternions with their predecessor so q and -q (the same rotation) do not cancel when averaged.
  let last: number[] | undefined;
  const quats = poses.map((pose) => {
    if (!pose) {
      last = undefined;
      return null;
    }
    let q: number[] = quaternionFromMatrix(pose.r);
    const before = last;
    if (before && q.reduce((s, v, i) => s + v * (before[i] as number), 0) < 0) q = q.map((v) => -v);
    last = q;
    return q;
  });
  return poses.map((pose, t) => {
    if (!pose) return null;
    const q = [0, 0, 0, 0];
    const tr = [0, 0, 0];
    let total = 0;
    for (const direction of [-1, 1]) {
      // Walk outwards and stop at a gap: frames beyond it belong to another run.
      for (let k = direction === -1 ? 0 : 1; k <= radius; k++) {
        const other = poses[t + direction * k];
        const oq = quats[t + direction * k];
        if (!other || !oq) break;
        const w = Math.exp(-((k / sigma) ** 2) / 2 - ((k === 0 ? 0 : distance(pose, other)) / motionPx) ** 2 / 2);
        total += w;
        for (let i = 0; i < 4; i++) q[i] = (q[i] as number) + w * (oq[i] as number);
        for (let i = 0; i < 3; i++) tr[i] = (tr[i] as number) + w * (other.t[i] as number);
      }
    }
    return { r: matrixFromQuaternion(q), t: Float64Array.from(tr, (v) => v / total) };
  });
}

export function poseMatrix(pose: Pose): number[] {
  const { r, t } = pose;
  return [
    ...[r[0], r[1], r[2], t[0]],
    ...[r[3], r[4], r[5], t[1]],
    ...[r[6], r[7], r[8], t[2]],
    ...[0, 0, 0, 1],
  ] as number[];
}

/** Cameras for every frame with landmarks (landmarks in pixels of the size x size frames). */
export function solveHeadPoses(
  face: CanonicalFace,
  landmarks: (Float32Array | null)[],
  size: number,
  options: HeadPoseOptions = {},
): HeadPoses {
  // The official search range is 600-1500 px at 512²; phone selfies need shorter focals, so start at 400.
  const focalRange = options.focalRange ?? [(400 * size) / 512, (2000 * size) / 512];
  const posed = landmarks.filter((l): l is Float32Array => l !== null);
  if (posed.length === 0) throw new RangeError('solveHeadPoses: no frame has landmarks');
  const samples = Math.min(options.focalSamples ?? 24, posed.length);
  const sample = Array.from(
    { length: samples },
    (_, k) => posed[Math.floor((k * posed.length) / samples)] as Float32Array,
  );
  const focal = searchFocal(face, sample, size, focalRange);
  const problem = problemFor(face, posed[0] as Float32Array, focal, size);
  // Mean image distance between the rigid points placed by two poses.
  const distance = (a: Pose, b: Pose) => {
    let sum = 0;
    for (let i = 0; i < problem.weights.length; i++) {
      const [ua, va] = projectPoint(problem, a, i);
      const [ub, vb] = projectPoint(problem, b, i);
      sum += Math.hypot(ua - ub, va - vb);
    }
    return sum / problem.weights.length;
  };
  const raw = solveSequence(face, landmarks, focal, size);
  const smoothed = smoothPoses(raw, options.smoothSigma ?? 1.5, options.smoothMotionPx ?? 2, distance);
  const frameError = smoothed.map((pose, t) =>
    pose ? meanError(problemFor(face, landmarks[t] as Float32Array, focal, size), pose) : null,
  );
  const errors = frameError.filter((e): e is number => e !== null);
  return {
    focal,
    focalRange,
    poses: smoothed.map((pose) => (pose ? poseMatrix(pose) : null)),
    frameError,
    reprojection: {
      meanPx: errors.reduce((a, b) => a + b, 0) / errors.length,
      maxPx: Math.max(...errors),
    },
  };
}
