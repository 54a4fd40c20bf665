// Head pose: the canonical face from @mediapipe/face_mesh, PnP on synthetic projections (exact answer known), the
// focal search, and pose smoothing (jitter removed, real motion kept).
import t from 'tap';
import { loadCanonicalFace, parseGeometryMetadata } from '../src/prepare/canonical-face.js';
import { chooseCrop, toCropPixels } from '../src/prepare/crop.js';
import { matrixFromQuaternion, quaternionFromMatrix, solveHeadPoses } from '../src/prepare/head-pose.js';
import { LANDMARKS } from '../src/prepare/landmarks.js';
import { type PnpProblem, rotationFromVector, solvePnp } from '../src/prepare/pnp.js';
import { rng } from '../src/testing/random.js';

const face = await loadCanonicalFace();
const vertex = (i: number) => Array.from(face.vertices.subarray(3 * i, 3 * i + 3)) as [number, number, number];

t.test('canonical face: 468 vertices in metres, OpenCV axes, origin inside the head', async (t) => {
  t.equal(face.vertices.length, 468 * 3);
  t.ok(face.rigid.length >= 30, `${face.rigid.length} rigid landmarks`);
  t.ok(Math.abs(face.rigid.reduce((s, r) => s + r.weight, 0) - 1) < 1e-9, 'weights sum to 1');
  const [nose, chin, forehead, rightEye, leftEye] = [1, 152, 10, 33, 263].map(vertex) as [number, number, number][];
  t.ok(nose[2] < -0.08 && nose[2] > -0.12, `nose tip ${nose[2].toFixed(3)} m in front of the origin (towards -z)`);
  t.ok(chin[1] > 0.08, 'chin below (y down)');
  t.ok(forehead[1] < -0.05, 'forehead above');
  t.ok(rightEye[0] < 0 && leftEye[0] > 0, "subject's right eye towards -x (image left)");
  t.ok(Math.abs(leftEye[0] - rightEye[0] - 0.089) < 0.002, 'outer eye corners 8.9 cm apart');
  t.throws(
    () => parseGeometryMetadata(new Uint8Array([0x0a, 0x05, 0x1d, 0, 0, 0, 0])),
    /canonical vertices, expected 468/,
  );
  t.throws(() => parseGeometryMetadata(new Uint8Array([0x0a, 0x05, 0x1d, 0])), /truncated/);
});

t.test('quaternion round trip', async (t) => {
  for (const w of [
    [0.1, -0.4, 0.2],
    [3, 0, 0],
    [0, 0, -2.9],
  ]) {
    const r = rotationFromVector(w);
    const back = matrixFromQuaternion(quaternionFromMatrix(r));
    t.ok(
      back.every((v, i) => Math.abs(v - (r[i] as number)) < 1e-12),
      `rotation ${w}`,
    );
  }
});

/** The rigid points projected with a pose, plus Gaussian noise. */
function synthetic(r: Float64Array, tr: number[], focal: number, noise: number, rand: () => number): PnpProblem {
  const n = face.rigid.length;
  const model = new Float64Array(3 * n);
  const image = new Float64Array(2 * n);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  face.rigid.forEach(({ index }, k) => {
    const [x, y, z] = vertex(index);
    model.set([x, y, z], 3 * k);
    const c = [0, 1, 2].map(
      (i) => (r[3 * i] as number) * x + (r[3 * i + 1] as number) * y + (r[3 * i + 2] as number) * z + (tr[i] as number),
    );
    image[2 * k] = (focal * (c[0] as number)) / (c[2] as number) + 256 + noise * gauss();
    image[2 * k + 1] = (focal * (c[1] as number)) / (c[2] as number) + 256 + noise * gauss();
  });
  return { model, image, weights: Float64Array.from(face.rigid, (r) => r.weight), focal, cx: 256, cy: 256 };
}

const angleBetween = (a: Float64Array, b: Float64Array) => {
  let trace = 0;
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) trace += (a[3 * i + k] as number) * (b[3 * i + k] as number);
  return (Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2))) * 180) / Math.PI;
};

t.test('PnP recovers known poses from noisy projections', async (t) => {
  const rand = rng(7);
  let worstAngle = 0;
  let worstShift = 0;
  for (let trial = 0; trial < 40; trial++) {
    const deg = Math.PI / 180;
    const r = rotationFromVector([(rand() - 0.5) * 40 * deg, (rand() - 0.5) * 80 * deg, (rand() - 0.5) * 30 * deg]);
    const tr = [(rand() - 0.5) * 0.1, (rand() - 0.5) * 0.1, 0.5 + rand() * 0.6];
    const pose = solvePnp(synthetic(r, tr, 1000, 0.5, rand));
    worstAngle = Math.max(worstAngle, angleBetween(pose.r, r));
    worstShift = Math.max(worstShift, Math.hypot(...[0, 1, 2].map((i) => (pose.t[i] as number) - (tr[i] as number))));
  }
  t.ok(worstAngle < 1.5, `rotation within ${worstAngle.toFixed(2)}° (±40° yaw, ±20° pitch, ±15° roll; 0.5 px noise)`);
  t.ok(worstShift < 0.015, `translation within ${(worstShift * 1000).toFixed(1)} mm at 0.5-1.1 m`);
  const exact = synthetic(rotationFromVector([0.2, -0.3, 0.1]), [0.02, -0.01, 0.7], 900, 0, rand);
  const solved = solvePnp(exact);
  t.ok(angleBetween(solved.r, rotationFromVector([0.2, -0.3, 0.1])) < 1e-4, 'noise-free: exact rotation');
  t.ok(Math.abs((solved.t[2] as number) - 0.7) < 1e-6, 'noise-free: exact depth');
});

/** A head turning and nodding in front of a 900-px camera: rigid landmarks only (the rest of the 478 are zero). */
function turningHead(frames: number, noise: number, seed: number) {
  const rand = rng(seed);
  const truth: { r: Float64Array; t: number[] }[] = [];
  const landmarks = Array.from({ length: frames }, (_, f) => {
    const phase = (2 * Math.PI * f) / frames;
    const r = rotationFromVector([0.25 * Math.sin(2 * phase), 0.5 * Math.sin(phase), 0.1 * Math.cos(phase)]);
    const tr = [0.03 * Math.sin(phase), 0.01, 0.65 + 0.1 * Math.cos(phase)];
    truth.push({ r, t: tr });
    const problem = synthetic(r, tr, 900, noise, rand);
    const points = new Float32Array(2 * LANDMARKS);
    face.rigid.forEach(({ index }, k) => {
      points[2 * index] = problem.image[2 * k] as number;
      points[2 * index + 1] = problem.image[2 * k + 1] as number;
    });
    return points;
  });
  return { truth, landmarks };
}

t.test('the focal search finds the camera that made the views', async (t) => {
  const { landmarks } = turningHead(60, 0.2, 3);
  const result = solveHeadPoses(face, landmarks, 512, { smoothSigma: 0 });
  t.ok(Math.abs(result.focal - 900) < 90, `focal ${result.focal.toFixed(0)} px (true 900)`);
  t.ok(result.reprojection.meanPx < 0.5, `reprojection ${result.reprojection.meanPx.toFixed(3)} px at 0.2 px noise`);
  t.same(result.focalRange, [400, 2000], 'default search range at 512²');
});

t.test('smoothing removes jitter and keeps real motion', async (t) => {
  const { truth, landmarks } = turningHead(100, 1, 5);
  landmarks[50] = null as unknown as Float32Array; // a dropped frame: no pose, and smoothing does not cross it
  const error = (sigma: number) => {
    const result = solveHeadPoses(face, landmarks, 512, { smoothSigma: sigma, focalRange: [900, 900] });
    t.equal(result.poses[50], null, 'the dropped frame has no pose');
    let sum = 0;
    result.poses.forEach((p, f) => {
      if (!p) return;
      const r = Float64Array.from([0, 1, 2, 4, 5, 6, 8, 9, 10], (i) => p[i] as number);
      sum += angleBetween(r, (truth[f] as { r: Float64Array }).r);
    });
    return sum / 99;
  };
  const [raw, smooth] = [error(0), error(1.5)];
  t.ok(smooth < 0.85 * raw, `mean rotation error ${raw.toFixed(3)}° raw, ${smooth.toFixed(3)}° smoothed`);
  // A fast turn (4° a frame) must not be averaged into its neighbours.
  const rand = rng(9);
  const fast = Array.from({ length: 30 }, (_, f) => {
    const problem = synthetic(rotationFromVector([0, (f * 4 * Math.PI) / 180 - 1, 0]), [0, 0, 0.6], 900, 0, rand);
    const points = new Float32Array(2 * LANDMARKS);
    face.rigid.forEach(({ index }, k) => {
      points.set([problem.image[2 * k] as number, problem.image[2 * k + 1] as number], 2 * index);
    });
    return points;
  });
  const fastResult = solveHeadPoses(face, fast, 512, { focalRange: [900, 900] });
  t.ok(
    fastResult.reprojection.maxPx < 0.5,
    `fast turn keeps its poses (max error ${fastResult.reprojection.maxPx.toFixed(3)} px)`,
  );
});

t.test('crop: one square box around the face, inside the frame', async (t) => {
  const points = (cx: number, cy: number, extent: number) => {
    const p = new Float32Array(2 * LANDMARKS);
    for (let i = 0; i < LANDMARKS; i++) {
      p[2 * i] = cx + extent * ((i % 2) - 0.5);
      p[2 * i + 1] = cy + extent * ((Math.floor(i / 2) % 2) - 0.5);
    }
    return p;
  };
  const box = chooseCrop([points(960, 500, 200), points(980, 520, 200), null], 1920, 1080);
  t.equal(box.size, 420, '2.1 x the face extent');
  t.ok(box.x <= 960 - 100 && box.x + box.size >= 980 + 100, 'covers the face in every frame');
  t.same(
    Array.from(toCropPixels(Float32Array.of(box.x, box.y, box.x + box.size, box.y + box.size), box, 512)),
    [0, 0, 512, 512],
  );
  const edge = chooseCrop([points(100, 100, 300)], 700, 500);
  t.same([edge.x, edge.y, edge.size], [0, 0, 500], 'shifted inside and shrunk to the frame, never padded');
});
