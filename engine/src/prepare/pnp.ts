// Rigid pose from 2D-3D correspondences under a pinhole camera (perspective-n-point), by Levenberg-Marquardt on the
// weighted squared reprojection error. Rotation updates are left-multiplied small rotations exp([d]x) R, so the
// state stays a rotation matrix with no angle singularities; the Jacobian is analytic (6 columns: d, t).

export interface Pose {
  /** Row-major 3x3 rotation. */
  r: Float64Array;
  t: Float64Array;
}

export interface PnpProblem {
  /** [n, 3] model points. */
  model: Float64Array;
  /** [n, 2] observed image points. */
  image: Float64Array;
  /** [n] non-negative weights. */
  weights: Float64Array;
  focal: number;
  cx: number;
  cy: number;
}

/** Rodrigues: the rotation by |w| radians about w, row-major. */
export function rotationFromVector(w: readonly number[]): Float64Array {
  const [x, y, z] = w as [number, number, number];
  const angle = Math.hypot(x, y, z);
  if (angle < 1e-12) return Float64Array.of(1, -z, y, z, 1, -x, -y, x, 1);
  const [kx, ky, kz] = [x / angle, y / angle, z / angle];
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const v = 1 - c;
  return Float64Array.of(
    c + kx * kx * v,
    kx * ky * v - kz * s,
    kx * kz * v + ky * s,
    ky * kx * v + kz * s,
    c + ky * ky * v,
    ky * kz * v - kx * s,
    kz * kx * v - ky * s,
    kz * ky * v + kx * s,
    c + kz * kz * v,
  );
}

export function multiply3(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      out[3 * i + j] =
        (a[3 * i] as number) * (b[j] as number) +
        (a[3 * i + 1] as number) * (b[3 + j] as number) +
        (a[3 * i + 2] as number) * (b[6 + j] as number);
  return out;
}

/** Camera-space position of model point i. */
function transform(pose: Pose, model: Float64Array, i: number): [number, number, number] {
  const { r, t } = pose;
  const [x, y, z] = [model[3 * i] as number, model[3 * i + 1] as number, model[3 * i + 2] as number];
  return [
    (r[0] as number) * x + (r[1] as number) * y + (r[2] as number) * z + (t[0] as number),
    (r[3] as number) * x + (r[4] as number) * y + (r[5] as number) * z + (t[1] as number),
    (r[6] as number) * x + (r[7] as number) * y + (r[8] as number) * z + (t[2] as number),
  ];
}

/** Image position of model point i. */
export function projectPoint(p: PnpProblem, pose: Pose, i: number): [number, number] {
  const [x, y, z] = transform(pose, p.model, i);
  return [(p.focal * x) / z + p.cx, (p.focal * y) / z + p.cy];
}

/** Weighted sum of squared reprojection errors (pixels²). */
export function reprojectionCost(p: PnpProblem, pose: Pose): number {
  let cost = 0;
  for (let i = 0; i < p.weights.length; i++) {
    const [u, v] = projectPoint(p, pose, i);
    cost +=
      (p.weights[i] as number) * ((u - (p.image[2 * i] as number)) ** 2 + (v - (p.image[2 * i + 1] as number)) ** 2);
  }
  return cost;
}

/** Solves the 6x6 system a x = b in place (Gaussian elimination with partial pivoting). */
function solve6(a: Float64Array, b: Float64Array): Float64Array | null {
  const n = 6;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++)
      if (Math.abs(a[row * n + col] as number) > Math.abs(a[pivot * n + col] as number)) pivot = row;
    if (Math.abs(a[pivot * n + col] as number) < 1e-300) return null;
    if (pivot !== col) {
      for (let k = 0; k < n; k++)
        [a[col * n + k], a[pivot * n + k]] = [a[pivot * n + k] as number, a[col * n + k] as number];
      [b[col], b[pivot]] = [b[pivot] as number, b[col] as number];
    }
    for (let row = col + 1; row < n; row++) {
      const f = (a[row * n + col] as number) / (a[col * n + col] as number);
      for (let k = col; k < n; k++) a[row * n + k] = (a[row * n + k] as number) - f * (a[col * n + k] as number);
      b[row] = (b[row] as number) - f * (b[col] as number);
    }
  }
  const x = new Float64Array(n);
  for (let row = n - 1; row >= 0; row--) {
    let sum = b[row] as number;
    for (let k = row + 1; k < n; k++) sum -= (a[row * n + k] as number) * (x[k] as number);
    x[row] = sum / (a[row * n + row] as number);
  }
  return x;
}

/**
 * A frontal starting pose: no rotation, the model's weighted centroid on the ray through the image centroid, at the
 * depth where the model's spread matches the image's (weak perspective).
 */
export function frontalPose(p: PnpProblem): Pose {
  let [wSum, mx, my, mz, ix, iy] = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < p.weights.length; i++) {
    const w = p.weights[i] as number;
    wSum += w;
    mx += w * (p.model[3 * i] as number);
    my += w * (p.model[3 * i + 1] as number);
    mz += w * (p.model[3 * i + 2] as number);
    ix += w * (p.image[2 * i] as number);
    iy += w * (p.image[2 * i + 1] as number);
  }
  [mx, my, mz, ix, iy] = [mx / wSum, my / wSum, mz / wSum, ix / wSum, iy / wSum];
  let [modelSpread, imageSpread] = [0, 0];
  for (let i = 0; i < p.weights.length; i++) {
    const w = p.weights[i] as number;
    modelSpread += w * (((p.model[3 * i] as number) - mx) ** 2 + ((p.model[3 * i + 1] as number) - my) ** 2);
    imageSpread += w * (((p.image[2 * i] as number) - ix) ** 2 + ((p.image[2 * i + 1] as number) - iy) ** 2);
  }
  const depth = p.focal * Math.sqrt(modelSpread / Math.max(imageSpread, 1e-12));
  return {
    r: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
    t: Float64Array.of(((ix - p.cx) * depth) / p.focal - mx, ((iy - p.cy) * depth) / p.focal - my, depth - mz),
  };
}

/** Levenberg-Marquardt from `start`; returns the pose of least weighted squared reprojection error found. */
export function solvePnp(p: PnpProblem, start: Pose = frontalPose(p), iterations = 50): Pose {
  let pose: Pose = { r: start.r.slice(), t: start.t.slice() };
  let cost = reprojectionCost(p, pose);
  let lambda = 1e-3;
  const jtj = new Float64Array(36);
  const jtr = new Float64Array(6);
  const row = new Float64Array(6);
  for (let iter = 0; iter < iterations; iter++) {
    jtj.fill(0);
    jtr.fill(0);
    for (let i = 0; i < p.weights.length; i++) {
      const w = p.weights[i] as number;
      if (w === 0) continue;
      const [x, y, z] = transform(pose, p.model, i);
      // Rotated model point (camera point minus translation): d(camera point)/d(rotation update) = -[q]x.
      const [qx, qy, qz] = [x - (pose.t[0] as number), y - (pose.t[1] as number), z - (pose.t[2] as number)];
      const residuals = [
        (p.focal * x) / z + p.cx - (p.image[2 * i] as number),
        (p.focal * y) / z + p.cy - (p.image[2 * i + 1] as number),
      ];
      for (let axis = 0; axis < 2; axis++) {
        // d(pixel)/d(camera point) for this image axis.
        const [gx, gy, gz] =
          axis === 0 ? [p.focal / z, 0, (-p.focal * x) / (z * z)] : [0, p.focal / z, (-p.focal * y) / (z * z)];
        // g . (-[q]x d) = d . (q x g)
        row[0] = qy * gz - qz * gy;
        row[1] = qz * gx - qx * gz;
        row[2] = qx * gy - qy * gx;
        row[3] = gx;
        row[4] = gy;
        row[5] = gz;
        const res = residuals[axis] as number;
        for (let a = 0; a < 6; a++) {
          jtr[a] = (jtr[a] as number) + w * (row[a] as number) * res;
          for (let b = 0; b < 6; b++)
            jtj[a * 6 + b] = (jtj[a * 6 + b] as number) + w * (row[a] as number) * (row[b] as number);
        }
      }
    }
    let improved = false;
    while (lambda < 1e10) {
      const damped = jtj.slice();
      for (let a = 0; a < 6; a++) damped[a * 7] = (jtj[a * 7] as number) * (1 + lambda) + 1e-12;
      const step = solve6(
        damped,
        jtr.map((v) => -v),
      );
      if (!step) break;
      const candidate: Pose = {
        r: multiply3(rotationFromVector([step[0] as number, step[1] as number, step[2] as number]), pose.r),
        t: Float64Array.of(
          (pose.t[0] as number) + (step[3] as number),
          (pose.t[1] as number) + (step[4] as number),
          (pose.t[2] as number) + (step[5] as number),
        ),
      };
      const candidateCost = (candidate.t[2] as number) > 0 ? reprojectionCost(p, candidate) : Infinity;
      if (candidateCost < cost) {
        const gain = (cost - candidateCost) / Math.max(cost, 1e-300);
        pose = candidate;
        cost = candidateCost;
        lambda = Math.max(lambda / 10, 1e-9);
        improved = true;
        if (gain < 1e-10) return pose;
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  return pose;
}
