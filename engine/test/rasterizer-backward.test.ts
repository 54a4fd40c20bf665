import t from 'tap';
import { type Camera, packCameras, Rasterizer } from '../src/ops/rasterizer.js';
import { Tensor } from '../src/tensor.js';
import { rng } from '../src/testing/random.js';

// One identity's Gaussians in float64 holding float32 values, so the op and the reference see the same point.
interface Cloud {
  means: Float64Array; // [n, 3]
  rotations: Float64Array; // [n, 4] (w, x, y, z), not normalised
  scales: Float64Array; // [n, 3]
  opacities: Float64Array; // [n] raw
  sh: Float64Array; // [n, K, 3]
}
type Kind = keyof Cloud;
const KINDS: Kind[] = ['means', 'rotations', 'scales', 'opacities', 'sh'];

interface Scene {
  clouds: Cloud[]; // one per segment
  cameras: Camera[];
  width: number;
  height: number;
  shDegree: number;
}

// Upstream gradients dL/d(rgb, alpha, depth), as float32 values.
interface Upstream {
  rgb: Float32Array;
  alpha: Float32Array;
  depth: Float32Array;
}

const at = (a: ArrayLike<number>, i: number) => a[i] as number;
const count = (c: Cloud) => c.opacities.length;
const widthOf = (kind: Kind, k: number) => ({ means: 3, rotations: 4, scales: 3, opacities: 1, sh: k * 3 })[kind];
const SH_C0 = 0.28209479177387814;
const SH_C1 = 0.4886025119029199;
const SH_C2 = [1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396];

/** OpenCV-convention world-to-camera looking from `eye` at the origin (world y up, so image y points down). */
function lookAt(eye: number[]): number[] {
  const norm = (a: number[]) => a.map((v) => v / Math.hypot(...a));
  const cross = (a: number[], b: number[]) => [
    at(a, 1) * at(b, 2) - at(a, 2) * at(b, 1),
    at(a, 2) * at(b, 0) - at(a, 0) * at(b, 2),
    at(a, 0) * at(b, 1) - at(a, 1) * at(b, 0),
  ];
  const z = norm(eye.map((v) => -v));
  const x = norm(cross(z, [0, 1, 0]));
  const y = cross(z, x);
  const dot = (a: number[]) => a.reduce((s, v, i) => s + v * at(eye, i), 0);
  return [...x, -dot(x), ...y, -dot(y), ...z, -dot(z), 0, 0, 0, 1];
}

/** World point that camera `cam` sees at pixel position (u, v), camera depth z. */
function unproject(cam: Camera, u: number, v: number, z: number): number[] {
  const m = (r: number, k: number) => at(cam.worldToCamera, 4 * r + k);
  const p = [((u - cam.cx) / cam.fx) * z, ((v - cam.cy) / cam.fy) * z, z];
  return [0, 1, 2].map((j) => [0, 1, 2].reduce((s, r) => s + m(r, j) * (at(p, r) - m(r, 3)), 0));
}

/**
 * Gaussians well inside a 32x24 view from about 2 units away (1 unit ~ 15 px), 1.5..4 px across, alphas mostly in
 * 0.2..0.85, quaternions not of unit length. Special rows: 0 is nearly opaque and centred on a pixel (alpha
 * clamped at 0.99 there); 1 has a negative red channel (clamped at 0); 2..5 are a stack of dense Gaussians (pixels
 * under it stop before T < 1e-4); the last two are culled (behind the camera, far off-screen).
 */
function randomCloud(random: () => number, n: number, k: number, cam: Camera): Cloud {
  const f = Math.fround;
  const rows: { mean: number[]; rotation: number[]; scale: number[]; opacity: number; sh: number[] }[] = [];
  for (let i = 0; i < n; i++) {
    const q = [random() - 0.5, random() - 0.5, random() - 0.5, random() - 0.5].map((v) => 1.7 * v);
    const sh = Array.from({ length: k * 3 }, (_, j) => (j < 3 ? 1.6 : 0.5) * (random() - 0.5));
    const row = {
      mean: [(random() - 0.5) * 0.9, (random() - 0.5) * 0.6, (random() - 0.5) * 0.6],
      rotation: q,
      scale: [0.06 + 0.1 * random(), 0.06 + 0.1 * random(), 0.04 + 0.08 * random()],
      opacity: -1.5 + 3.2 * random(),
      sh,
    };
    if (i === 0) Object.assign(row, { mean: unproject(cam, 8.5, 14.5, 2.2), opacity: 8 });
    if (i === 1) sh[0] = -3;
    if (i >= 2 && i <= 5)
      Object.assign(row, {
        mean: unproject(cam, 21 + 0.3 * i, 9 - 0.2 * i, 1.6 + 0.1 * i),
        scale: [0.12, 0.11, 0.1],
        opacity: 3 + 0.2 * i,
      });
    if (i === n - 2) row.mean = [0, 0, -5];
    if (i === n - 1) row.mean = [30, 0, 0];
    rows.push(row);
  }
  const pack = (pick: (r: (typeof rows)[number]) => number[]) => Float64Array.from(rows.flatMap(pick).map(f));
  return {
    means: pack((r) => r.mean),
    rotations: pack((r) => r.rotation),
    scales: pack((r) => r.scale),
    opacities: pack((r) => [r.opacity]),
    sh: pack((r) => r.sh),
  };
}

interface Splat {
  index: number;
  u: number;
  v: number;
  conic: [number, number, number];
  opacity: number;
  depth: number;
  colour: number[];
  rect: [number, number, number, number];
  radius: number;
}

function shColour(sh: Float64Array, base: number, degree: number, d: number[]): number[] {
  const [x, y, z] = d as [number, number, number];
  const basis = [SH_C0];
  if (degree >= 1) basis.push(-SH_C1 * y, SH_C1 * z, -SH_C1 * x);
  const c2 = (j: number) => at(SH_C2, j);
  if (degree >= 2)
    basis.push(
      c2(0) * x * y,
      c2(1) * y * z,
      c2(2) * (2 * z * z - x * x - y * y),
      c2(3) * x * z,
      c2(4) * (x * x - y * y),
    );
  return [0, 1, 2].map((c) => Math.max(0, 0.5 + basis.reduce((s, b, j) => s + b * at(sh, base + j * 3 + c), 0)));
}

// Float64 projection as documented in native/src/ops/rasterizer.h (near plane 0.01, no far plane).
function project(c: Cloud, i: number, cam: Camera, scene: Scene): Splat | null {
  const m = (r: number, k: number) => at(cam.worldToCamera, 4 * r + k);
  const p = [0, 1, 2].map((j) => at(c.means, i * 3 + j));
  const cam3 = (r: number) => m(r, 0) * at(p, 0) + m(r, 1) * at(p, 1) + m(r, 2) * at(p, 2) + m(r, 3);
  const [x, y, z] = [cam3(0), cam3(1), cam3(2)];
  if (!(z >= 0.01)) return null;
  const q = [0, 1, 2, 3].map((j) => at(c.rotations, i * 4 + j));
  const [w, a, b, d] = q.map((v) => v / Math.hypot(...q)) as [number, number, number, number];
  // biome-ignore format: a 3x3 matrix reads best as three rows
  const R = [
    1 - 2 * (b * b + d * d), 2 * (a * b - w * d), 2 * (a * d + w * b),
    2 * (a * b + w * d), 1 - 2 * (a * a + d * d), 2 * (b * d - w * a),
    2 * (a * d - w * b), 2 * (b * d + w * a), 1 - 2 * (a * a + b * b),
  ];
  const A = (r: number, k: number) =>
    (m(r, 0) * at(R, k) + m(r, 1) * at(R, 3 + k) + m(r, 2) * at(R, 6 + k)) * at(c.scales, i * 3 + k);
  const { fx, fy, cx, cy } = cam;
  const { width: W, height: H } = scene;
  const tx = Math.min(Math.max(x / z, -(cx / fx + (0.15 * W) / fx)), (W - cx) / fx + (0.15 * W) / fx);
  const ty = Math.min(Math.max(y / z, -(cy / fy + (0.15 * H) / fy)), (H - cy) / fy + (0.15 * H) / fy);
  let [ca, cb, cc] = [0.3, 0, 0.3];
  for (let k = 0; k < 3; k++) {
    const b0 = (fx / z) * A(0, k) - (fx / z) * tx * A(2, k);
    const b1 = (fy / z) * A(1, k) - (fy / z) * ty * A(2, k);
    ca += b0 * b0;
    cb += b0 * b1;
    cc += b1 * b1;
  }
  const det = ca * cc - cb * cb;
  if (!(det > 0)) return null;
  const mid = 0.5 * (ca + cc);
  const radius = Math.ceil(3 * Math.sqrt(mid + Math.sqrt(Math.max(0.01, mid * mid - det))));
  const [u, v] = [fx * (x / z) + cx, fy * (y / z) + cy];
  const clamp = (val: number, hi: number) => Math.min(Math.max(val, 0), hi);
  const [tw, th] = [Math.ceil(W / 16), Math.ceil(H / 16)];
  const rect: Splat['rect'] = [
    clamp(Math.floor((u - radius) / 16), tw),
    clamp(Math.floor((v - radius) / 16), th),
    clamp(Math.ceil((u + radius) / 16), tw),
    clamp(Math.ceil((v + radius) / 16), th),
  ];
  if (!(rect[2] > rect[0] && rect[3] > rect[1])) return null;
  const centre = [0, 1, 2].map((j) => -(m(0, j) * m(0, 3) + m(1, j) * m(1, 3) + m(2, j) * m(2, 3)));
  const dir = p.map((val, j) => val - at(centre, j));
  const raw = Math.min(Math.max(at(c.opacities, i), -80), 80);
  const k = (scene.shDegree + 1) ** 2;
  const colour = shColour(
    c.sh,
    i * k * 3,
    scene.shDegree,
    dir.map((val) => val / Math.hypot(...dir)),
  );
  return {
    index: i,
    u,
    v,
    conic: [cc / det, -cb / det, ca / det],
    opacity: 1 / (1 + Math.exp(-raw)),
    depth: z,
    colour,
    rect,
    radius,
  };
}

/**
 * Float64 brute-force render of segment s, reduced to the loss sum(upstream * output). `shift` moves one Gaussian's
 * 2D mean (for the screen-space gradient). The signature hashes every pixel's blended Gaussians in order: it
 * changes exactly when a discrete decision (1/255 cut, termination, depth order, tile rectangle) flips.
 */
function segmentLoss(scene: Scene, s: number, up: Upstream, shift?: { index: number; du: number; dv: number }) {
  const { width: W, height: H } = scene;
  const cloud = scene.clouds[s] as Cloud;
  const splats: Splat[] = [];
  for (let i = 0; i < count(cloud); i++) {
    const g = project(cloud, i, scene.cameras[s] as Camera, scene);
    if (g && shift?.index === i) [g.u, g.v] = [g.u + shift.du, g.v + shift.dv];
    if (g) splats.push(g);
  }
  splats.sort((a, b) => a.depth - b.depth);
  let loss = 0;
  let signature = 0;
  let clamped = 0;
  let stopped = 0;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const [tx, ty] = [Math.floor(x / 16), Math.floor(y / 16)];
      let T = 1;
      const acc = [0, 0, 0, 0];
      for (const g of splats) {
        if (tx < g.rect[0] || tx >= g.rect[2] || ty < g.rect[1] || ty >= g.rect[3]) continue;
        const [dx, dy] = [g.u - (x + 0.5), g.v - (y + 0.5)];
        const sigma = 0.5 * (g.conic[0] * dx * dx + g.conic[2] * dy * dy) + g.conic[1] * dx * dy;
        if (sigma < 0) continue;
        const alpha = Math.min(0.99, g.opacity * Math.exp(-sigma));
        if (alpha < 1 / 255) continue;
        if (T * (1 - alpha) < 1e-4) {
          stopped++;
          break;
        }
        if (alpha === 0.99) clamped++;
        [...g.colour, g.depth].forEach((val, j) => {
          acc[j] = at(acc, j) + val * alpha * T;
        });
        T *= 1 - alpha;
        signature = (Math.imul(signature, 31) + g.index + 1) | 0;
      }
      signature = (Math.imul(signature, 17) + 7) | 0;
      const pixel = (s * H + y) * W + x;
      for (let c = 0; c < 3; c++) loss += at(up.rgb, pixel * 3 + c) * at(acc, c);
      loss += at(up.alpha, pixel) * (1 - T) + at(up.depth, pixel) * at(acc, 3);
    }
  return { loss, signature, splats, clamped, stopped };
}

/**
 * Central difference of f in float64. Steps whose either side flips a discrete decision are retried 10x and 100x
 * smaller; null when every step crosses one (the gradient is undefined there).
 */
function centralDifference(f: (delta: number) => { loss: number; signature: number }, h: number): number | null {
  const base = f(0).signature;
  for (let step = h; step >= h / 100; step /= 10) {
    const [plus, minus] = [f(step), f(-step)];
    if (plus.signature === base && minus.signature === base) return (plus.loss - minus.loss) / (2 * step);
  }
  return null;
}

interface Analytic {
  grads: Record<Kind, Float32Array>;
  means2dGradNorm: Float32Array;
  radii: Float32Array;
  intersections: number;
}

function tensors(scene: Scene) {
  const cat = (kind: Kind) => Float32Array.from(scene.clouds.flatMap((c) => Array.from(c[kind])));
  const rows = scene.clouds.reduce((a, c) => a + count(c), 0);
  const { width: W, height: H } = scene;
  const B = scene.clouds.length;
  const f32 = (shape: number[], data?: Float32Array) =>
    data ? Tensor.from('cpu', 'f32', shape, data) : Tensor.zeros('cpu', 'f32', shape);
  return {
    rowCounts: scene.clouds.map(count),
    means: f32([rows, 3], cat('means')),
    rotations: f32([rows, 4], cat('rotations')),
    scales: f32([rows, 3], cat('scales')),
    opacities: scene.clouds.map((c) => f32([count(c)], Float32Array.from(c.opacities))),
    sh: scene.clouds.map((c) => f32([c.sh.length], Float32Array.from(c.sh))),
    cameras: f32([B, 20], packCameras(scene.cameras)),
    width: W,
    height: H,
    shDegree: scene.shDegree,
    rgb: f32([B, H, W, 3]),
    alpha: f32([B, H, W]),
    depth: f32([B, H, W]),
  };
}

function analytic(r: Rasterizer, scene: Scene, up: Upstream, withDepth = true): Analytic {
  const args = tensors(scene);
  const { intersections } = r.forward(args, { train: true });
  const rows = args.means.shape[0] as number;
  const { width: W, height: H } = scene;
  const B = scene.clouds.length;
  const k = (scene.shDegree + 1) ** 2;
  const nan = (shape: number[]) =>
    Tensor.from('cpu', 'f32', shape, new Float32Array(shape.reduce((a, b) => a * b)).fill(Number.NaN));
  const out = {
    dMeans: nan([rows, 3]),
    dRotations: nan([rows, 4]),
    dScales: nan([rows, 3]),
    dOpacities: nan([rows]),
    dSh: nan([rows, k, 3]),
    means2dGradNorm: nan([rows]),
    radii: nan([rows]),
  };
  r.backward({
    dRgb: Tensor.from('cpu', 'f32', [B, H, W, 3], up.rgb),
    dAlpha: Tensor.from('cpu', 'f32', [B, H, W], up.alpha),
    ...(withDepth ? { dDepth: Tensor.from('cpu', 'f32', [B, H, W], up.depth) } : {}),
    ...out,
  });
  return {
    grads: {
      means: out.dMeans.read(),
      rotations: out.dRotations.read(),
      scales: out.dScales.read(),
      opacities: out.dOpacities.read(),
      sh: out.dSh.read(),
    },
    means2dGradNorm: out.means2dGradNorm.read(),
    radii: out.radii.read(),
    intersections,
  };
}

function makeScene(seed: number, shDegree: number): { scene: Scene; up: Upstream } {
  const random = rng(seed);
  const k = (shDegree + 1) ** 2;
  const [W, H] = [32, 24];
  const cameras: Camera[] = [
    { worldToCamera: lookAt([0.2, -0.15, -2]), fx: 30, fy: 31, cx: 15.7, cy: 12.2 },
    { worldToCamera: lookAt([-0.9, 0.3, -1.8]), fx: 34, fy: 34, cx: 16.5, cy: 11.5 },
  ];
  const scene: Scene = {
    clouds: [randomCloud(random, 16, k, cameras[0] as Camera), randomCloud(random, 14, k, cameras[1] as Camera)],
    cameras,
    width: W,
    height: H,
    shDegree,
  };
  const n = 2 * W * H;
  const u = (m: number) => Float32Array.from({ length: m }, () => 2 * random() - 1);
  return { scene, up: { rgb: u(n * 3), alpha: u(n), depth: u(n) } };
}

// Tolerance: |analytic - FD| <= 2e-3 * max |FD| of the kind (per segment and kind) + 2e-3 |FD|. The op computes in
// float32: T is rebuilt by division through up to ~10 layers and each gradient is a sum of ~100 pixel terms that
// partly cancel, so ~1e-5 of the kind's scale is the expected error (the worst seen is below 2e-4); FD in float64
// with h = 1e-5 adds ~1e-9. A wrong term (a missing Jacobian or SH-direction path, a sign) is 1e-2 or more.
const TOLERANCE = 2e-3;

for (const shDegree of [0, 1, 2]) {
  t.test(`gradients match float64 central differences, SH degree ${shDegree}, 2 segments at 32x24`, async (t) => {
    const { scene, up } = makeScene(300 + shDegree, shDegree);
    const r = new Rasterizer('cpu');
    const got = analytic(r, scene, up);
    t.ok(got.intersections > 20, `${got.intersections} intersections`);
    const k = (shDegree + 1) ** 2;
    let checked = 0;
    let undefinedAt = 0;
    let offset = 0;
    scene.clouds.forEach((cloud, s) => {
      const base = segmentLoss(scene, s, up);
      const visible = new Map(base.splats.map((g) => [g.index, g]));
      t.ok(
        base.clamped > 0 && base.stopped > 0,
        `segment ${s}: ${base.clamped} alphas clamped at 0.99, ${base.stopped} pixels stop early`,
      );
      t.equal(visible.get(1)?.colour[0], 0, `segment ${s}: a colour clamped at 0`);
      t.equal(visible.size, count(cloud) - 2, `segment ${s}: all but the two culled Gaussians visible`);
      for (const kind of KINDS) {
        const width = widthOf(kind, k);
        const fd: number[] = [];
        const an: number[] = [];
        for (let i = 0; i < count(cloud); i++)
          for (let j = 0; j < width; j++) {
            const slot = i * width + j;
            const value = at(cloud[kind], slot);
            const d = centralDifference((delta) => {
              cloud[kind][slot] = value + delta;
              const result = segmentLoss(scene, s, up);
              cloud[kind][slot] = value;
              return result;
            }, 1e-5);
            const a = at(got.grads[kind], (offset + i) * width + j);
            if (!visible.has(i)) t.equal(a, 0, `culled Gaussian ${s}/${i} ${kind}: zero gradient`);
            if (d === null) undefinedAt++;
            else {
              fd.push(d);
              an.push(a);
            }
          }
        const scale = Math.max(...fd.map(Math.abs));
        let worst = 0;
        fd.forEach((d, i) => {
          worst = Math.max(worst, Math.abs(at(an, i) - d) / (scale + Math.abs(d)));
        });
        checked += fd.length;
        t.ok(scale > 1e-3, `segment ${s} ${kind}: gradients are not trivially zero (max ${scale.toPrecision(3)})`);
        t.ok(worst < TOLERANCE, `segment ${s} ${kind}: error ${worst.toExponential(2)} of the gradients' scale`);
      }
      // Screen-space mean: FD on the 2D mean itself, scaled to NDC units; and the radii.
      let worst = 0;
      for (let i = 0; i < count(cloud); i++) {
        const g = visible.get(i);
        const row = offset + i;
        t.equal(at(got.radii, row), g ? g.radius : 0, `radius of ${s}/${i}`);
        if (!g) continue;
        const du = centralDifference((delta) => segmentLoss(scene, s, up, { index: i, du: delta, dv: 0 }), 1e-4);
        const dv = centralDifference((delta) => segmentLoss(scene, s, up, { index: i, du: 0, dv: delta }), 1e-4);
        if (du === null || dv === null) continue;
        const want = Math.hypot((du * scene.width) / 2, (dv * scene.height) / 2);
        worst = Math.max(worst, Math.abs(at(got.means2dGradNorm, row) - want) / Math.max(1e-3, want));
      }
      t.ok(worst < TOLERANCE, `segment ${s} 2D mean gradient norm: relative error ${worst.toExponential(2)}`);
      offset += count(cloud);
    });
    t.ok(undefinedAt <= checked / 50, `${checked} parameters checked; ${undefinedAt} on a discontinuity, skipped`);
    r.dispose();
  });
}

t.test('alpha clamp: a pixel where alpha is clamped at 0.99 sends nothing to opacity or footprint', async (t) => {
  // One Gaussian centred on pixel (8, 14); only that pixel has upstream gradients. SH degree 0 and no depth
  // gradient, so the footprint (means, rotations, scales) and opacity could only be reached through alpha.
  const cam: Camera = { worldToCamera: lookAt([0.2, -0.15, -2]), fx: 30, fy: 31, cx: 15.7, cy: 12.2 };
  const [W, H] = [32, 24];
  const pixel = 14 * W + 8;
  const up: Upstream = {
    rgb: new Float32Array(W * H * 3),
    alpha: new Float32Array(W * H),
    depth: new Float32Array(W * H),
  };
  up.rgb.set([0.7, -0.4, 0.2], pixel * 3);
  up.alpha[pixel] = 0.9;
  const r = new Rasterizer('cpu');
  for (const raw of [8, 2]) {
    const f = (a: number[]) => Float64Array.from(a.map(Math.fround));
    const cloud: Cloud = {
      means: f(unproject(cam, 8.5, 14.5, 2)),
      rotations: f([0.9, 0.2, -0.3, 0.1]),
      scales: f([0.1, 0.08, 0.05]),
      opacities: f([raw]),
      sh: f([0.3, 0.1, -0.2]),
    };
    const scene: Scene = { clouds: [cloud], cameras: [cam], width: W, height: H, shDegree: 0 };
    const { grads } = analytic(r, scene, up, false);
    const footprint = [...grads.means, ...grads.rotations, ...grads.scales, ...grads.opacities];
    const alpha = Math.min(0.99, Math.fround(1 / (1 + Math.exp(-raw))));
    const wantSh = [0.7, -0.4, 0.2].map((d) => SH_C0 * d * alpha);
    t.ok(Math.max(...grads.sh.map((g, c) => Math.abs(g - at(wantSh, c)))) < 1e-6, `raw ${raw}: dSh = C0 dRgb alpha`);
    if (raw === 8) t.same(footprint, new Array(11).fill(0), 'clamped: zero gradient to opacity and footprint');
    else t.ok(Math.abs(at(grads.opacities, 0)) > 1e-3, 'unclamped: the opacity gets a gradient');
  }
  r.dispose();
});
