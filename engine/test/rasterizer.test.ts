import t from 'tap';
import { type Camera, packCameras, Rasterizer } from '../src/ops/rasterizer.js';
import { Tensor } from '../src/tensor.js';
import { maxRelError, rng } from '../src/testing/random.js';

// One identity's Gaussians, as the rasterizer reads them (float32, so the reference sees the same inputs).
interface Cloud {
  means: Float32Array; // [n, 3]
  rotations: Float32Array; // [n, 4] (w, x, y, z)
  scales: Float32Array; // [n, 3]
  opacities: Float32Array; // [n] raw
  sh: Float32Array; // [n, K, 3]
}

interface Scene {
  clouds: Cloud[]; // one per segment
  cameras: Camera[];
  width: number;
  height: number;
  shDegree: number;
}

const SH_C0 = 0.28209479177387814;
const SH_C1 = 0.4886025119029199;
const SH_C2 = [1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396];

const count = (c: Cloud) => c.opacities.length;
const at = (a: ArrayLike<number>, i: number) => a[i] as number;

/** OpenCV-convention world-to-camera looking from `eye` at `target` (world y up, so image y points down). */
function lookAt(eye: number[], target: number[]): number[] {
  const sub = (a: number[], b: number[]) => a.map((v, i) => v - at(b, i));
  const norm = (a: number[]) => a.map((v) => v / Math.hypot(...a));
  const cross = (a: number[], b: number[]) => [
    at(a, 1) * at(b, 2) - at(a, 2) * at(b, 1),
    at(a, 2) * at(b, 0) - at(a, 0) * at(b, 2),
    at(a, 0) * at(b, 1) - at(a, 1) * at(b, 0),
  ];
  const z = norm(sub(target, eye));
  const x = norm(cross(z, [0, 1, 0]));
  const y = cross(z, x);
  const dot = (a: number[]) => a.reduce((s, v, i) => s + v * at(eye, i), 0);
  return [...x, -dot(x), ...y, -dot(y), ...z, -dot(z), 0, 0, 0, 1];
}

const IDENTITY = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

function cloudOf(
  gaussians: { mean: number[]; scale: number[]; opacity: number; sh: number[]; rotation?: number[] }[],
): Cloud {
  return {
    means: Float32Array.from(gaussians.flatMap((g) => g.mean)),
    rotations: Float32Array.from(gaussians.flatMap((g) => g.rotation ?? [1, 0, 0, 0])),
    scales: Float32Array.from(gaussians.flatMap((g) => g.scale)),
    opacities: Float32Array.from(gaussians.map((g) => g.opacity)),
    sh: Float32Array.from(gaussians.flatMap((g) => g.sh)),
  };
}

/** SH degree-0 coefficients giving colour `rgb` (colour = C0 * sh + 0.5). */
const flat = (rgb: number[], k = 1) => [...rgb.map((c) => (c - 0.5) / SH_C0), ...new Array((k - 1) * 3).fill(0)];

function randomCloud(random: () => number, n: number, k: number): Cloud {
  const g = [];
  for (let i = 0; i < n; i++) {
    const q = [random() - 0.5, random() - 0.5, random() - 0.5, random() - 0.5];
    g.push({
      // Mostly in front of the cameras; a few behind the near plane or beside the image, to exercise culling.
      mean: [(random() - 0.5) * 1.6, (random() - 0.5) * 1.2, (random() - 0.5) * 1.2],
      scale: [0.01 + 0.08 * random(), 0.01 + 0.08 * random(), 0.005 + 0.05 * random()],
      rotation: q,
      opacity: -2 + 5 * random(),
      sh: Array.from({ length: k * 3 }, (_, j) => (j < 3 ? 2 : 0.6) * (random() - 0.5)),
    });
  }
  return cloudOf(g);
}

interface Image {
  rgb: Float32Array;
  alpha: Float32Array;
  depth: Float32Array;
  intersections: number;
}

function render(r: Rasterizer, scene: Scene): Image {
  const dev = r.device;
  const cat = (pick: (c: Cloud) => Float32Array) => Float32Array.from(scene.clouds.flatMap((c) => Array.from(pick(c))));
  const rows = scene.clouds.reduce((a, c) => a + count(c), 0);
  const B = scene.clouds.length;
  const { width: W, height: H } = scene;
  const nan = (n: number) => new Float32Array(n).fill(Number.NaN);
  const up = (shape: number[], data: Float32Array) => Tensor.from(dev, 'f32', shape, data);
  const [rgb, alpha, depth] = [3, 1, 1].map((c) => up(c === 3 ? [B, H, W, 3] : [B, H, W], nan(B * H * W * c))) as [
    Tensor<'f32'>,
    Tensor<'f32'>,
    Tensor<'f32'>,
  ];
  const { intersections } = r.forward({
    rowCounts: scene.clouds.map(count),
    means: up(
      [rows, 3],
      cat((c) => c.means),
    ),
    rotations: up(
      [rows, 4],
      cat((c) => c.rotations),
    ),
    scales: up(
      [rows, 3],
      cat((c) => c.scales),
    ),
    opacities: scene.clouds.map((c) => up([count(c)], c.opacities)),
    sh: scene.clouds.map((c) => up([c.sh.length], c.sh)),
    cameras: up([B, 20], packCameras(scene.cameras)),
    width: W,
    height: H,
    shDegree: scene.shDegree,
    rgb,
    alpha,
    depth,
  });
  return { rgb: rgb.read(), alpha: alpha.read(), depth: depth.read(), intersections };
}

function shColour(sh: Float32Array, base: number, degree: number, d: number[]): number[] {
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
  return [0, 1, 2].map((c) => Math.max(0, 0.5 + basis.reduce((s, b, k) => s + b * at(sh, base + k * 3 + c), 0)));
}

interface Projected {
  u: number;
  v: number;
  conic: [number, number, number];
  opacity: number;
  depth: number;
  colour: number[];
  rect: [number, number, number, number];
}

// Float64 reference of the projection documented in native/src/ops/rasterizer.h.
function project(c: Cloud, i: number, cam: Camera, scene: Scene, near = 0.01): Projected | null {
  const m = (r: number, k: number) => at(cam.worldToCamera, 4 * r + k);
  const p = [0, 1, 2].map((j) => at(c.means, i * 3 + j));
  const cam3 = (r: number) => m(r, 0) * at(p, 0) + m(r, 1) * at(p, 1) + m(r, 2) * at(p, 2) + m(r, 3);
  const [x, y, z] = [cam3(0), cam3(1), cam3(2)];
  if (!(z >= near)) return null;
  const q = [0, 1, 2, 3].map((j) => at(c.rotations, i * 4 + j));
  const [w, a, b, d] = q.map((v) => v / Math.hypot(...q)) as [number, number, number, number];
  // biome-ignore format: a 3x3 matrix reads best as three rows
  const R = [
    1 - 2 * (b * b + d * d), 2 * (a * b - w * d), 2 * (a * d + w * b),
    2 * (a * b + w * d), 1 - 2 * (a * a + d * d), 2 * (b * d - w * a),
    2 * (a * d - w * b), 2 * (b * d + w * a), 1 - 2 * (a * a + b * b),
  ];
  // A = W R S: the camera covariance is A A^T.
  const A = (r: number, k: number) =>
    (m(r, 0) * at(R, k) + m(r, 1) * at(R, 3 + k) + m(r, 2) * at(R, 6 + k)) * at(c.scales, i * 3 + k);
  const { fx, fy, cx, cy } = cam;
  const { width: W, height: H } = scene;
  const mx = 0.3 * ((0.5 * W) / fx);
  const my = 0.3 * ((0.5 * H) / fy);
  const tx = Math.min(Math.max(x / z, -(cx / fx + mx)), (W - cx) / fx + mx);
  const ty = Math.min(Math.max(y / z, -(cy / fy + my)), (H - cy) / fy + my);
  const [j00, j11] = [fx / z, fy / z];
  const [j02, j12] = [-j00 * tx, -j11 * ty];
  let [ca, cb, cc] = [0.3, 0, 0.3];
  for (let k = 0; k < 3; k++) {
    const b0 = j00 * A(0, k) + j02 * A(2, k);
    const b1 = j11 * A(1, k) + j12 * A(2, k);
    ca += b0 * b0;
    cb += b0 * b1;
    cc += b1 * b1;
  }
  const det = ca * cc - cb * cb;
  if (!(det > 0)) return null;
  const mid = 0.5 * (ca + cc);
  const radius = Math.ceil(3 * Math.sqrt(mid + Math.sqrt(Math.max(0.01, mid * mid - det))));
  const u = fx * (x / z) + cx;
  const v = fy * (y / z) + cy;
  const [tw, th] = [Math.ceil(W / 16), Math.ceil(H / 16)];
  const clamp = (val: number, hi: number) => Math.min(Math.max(val, 0), hi);
  const rect: [number, number, number, number] = [
    clamp(Math.floor((u - radius) / 16), tw),
    clamp(Math.floor((v - radius) / 16), th),
    clamp(Math.ceil((u + radius) / 16), tw),
    clamp(Math.ceil((v + radius) / 16), th),
  ];
  if (!(rect[2] > rect[0] && rect[3] > rect[1])) return null;
  // Camera centre -R^T t.
  const centre = [0, 1, 2].map((j) => -(m(0, j) * m(0, 3) + m(1, j) * m(1, 3) + m(2, j) * m(2, 3)));
  const dir = p.map((val, j) => val - at(centre, j));
  const k = (scene.shDegree + 1) ** 2;
  const raw = Math.min(Math.max(at(c.opacities, i), -80), 80);
  return {
    u,
    v,
    conic: [cc / det, -cb / det, ca / det],
    opacity: 1 / (1 + Math.exp(-raw)),
    depth: z,
    colour: shColour(
      c.sh,
      i * k * 3,
      scene.shDegree,
      dir.map((val) => val / Math.hypot(...dir)),
    ),
    rect,
  };
}

// Float64 brute force: per pixel, every Gaussian whose tile rectangle covers the pixel, sorted by depth.
function reference(scene: Scene): Image {
  const { width: W, height: H } = scene;
  const B = scene.clouds.length;
  const n = B * H * W;
  const out = {
    rgb: new Float32Array(n * 3),
    alpha: new Float32Array(n),
    depth: new Float32Array(n),
    intersections: 0,
  };
  scene.clouds.forEach((cloud, s) => {
    const cam = scene.cameras[s] as Camera;
    const splats: Projected[] = [];
    for (let i = 0; i < count(cloud); i++) {
      const g = project(cloud, i, cam, scene);
      if (g) splats.push(g);
    }
    splats.sort((a, b) => a.depth - b.depth);
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
          if (T * (1 - alpha) < 1e-4) break;
          [...g.colour, g.depth].forEach((val, j) => {
            acc[j] = at(acc, j) + val * alpha * T;
          });
          T *= 1 - alpha;
        }
        const pixel = (s * H + y) * W + x;
        out.rgb.set(acc.slice(0, 3), pixel * 3);
        out.alpha[pixel] = 1 - T;
        out.depth[pixel] = at(acc, 3);
      }
  });
  return out;
}

const pixelOf = (scene: Scene, s: number, x: number, y: number) => (s * scene.height + y) * scene.width + x;

t.test('one isotropic Gaussian on the axis: peak = sigmoid(opacity), EWA footprint, zero outside', async (t) => {
  const r = new Rasterizer('cpu');
  // f = 100 px, s = 0.04, z = 2: sigma = f s / z = 2 px, plus the 0.3 px^2 dilation. cx, cy on a pixel centre.
  const cam: Camera = { worldToCamera: IDENTITY, fx: 100, fy: 100, cx: 32.5, cy: 24.5 };
  for (const raw of [1.5, -1, 10]) {
    const scene: Scene = {
      clouds: [cloudOf([{ mean: [0, 0, 2], scale: [0.04, 0.04, 0.04], opacity: raw, sh: flat([0.2, 0.6, 0.9]) }])],
      cameras: [cam],
      width: 64,
      height: 48,
      shDegree: 0,
    };
    const img = render(r, scene);
    const o = 1 / (1 + Math.exp(-raw));
    t.ok(Math.abs(at(img.alpha, pixelOf(scene, 0, 32, 24)) - Math.min(0.99, o)) < 1e-6, `peak alpha for raw ${raw}`);
    const variance = 2 * 2 + 0.3;
    let worst = 0;
    let lit = 0;
    for (let y = 0; y < 48; y++)
      for (let x = 0; x < 64; x++) {
        const d2 = (x - 32) ** 2 + (y - 24) ** 2;
        const a = Math.min(0.99, o * Math.exp((-0.5 * d2) / variance));
        const expected = a < 1 / 255 ? 0 : a;
        if (expected > 0) lit++;
        worst = Math.max(worst, Math.abs(at(img.alpha, pixelOf(scene, 0, x, y)) - expected));
      }
    t.ok(
      worst < 1e-6,
      `footprint exp(-r^2 / 2 (sigma^2 + 0.3)) everywhere, zero past the 1/255 cut (max error ${worst})`,
    );
    t.ok(lit > 9, `${lit} pixels lit`);
    const green = at(img.rgb, pixelOf(scene, 0, 33, 25) * 3 + 1) / at(img.alpha, pixelOf(scene, 0, 33, 25));
    t.ok(Math.abs(green - 0.6) < 1e-5, 'rgb is the colour premultiplied by alpha');
    t.ok(Math.abs(at(img.depth, pixelOf(scene, 0, 32, 24)) - 2 * Math.min(0.99, o)) < 1e-5, 'depth = z alpha');
  }
  r.dispose();
});

t.test('ordering: the nearer Gaussian dominates, whatever the input order', async (t) => {
  const r = new Rasterizer('cpu');
  const cam: Camera = { worldToCamera: IDENTITY, fx: 100, fy: 100, cx: 32.5, cy: 24.5 };
  const red = { mean: [0.01, 0, 2], scale: [0.05, 0.05, 0.05], opacity: 2, sh: flat([1, 0, 0]) };
  const green = { mean: [-0.01, 0.01, 3], scale: [0.08, 0.08, 0.08], opacity: 2, sh: flat([0, 1, 0]) };
  const scene = (gs: (typeof red)[]): Scene => ({
    clouds: [cloudOf(gs)],
    cameras: [cam],
    width: 64,
    height: 48,
    shDegree: 0,
  });
  const a = render(r, scene([red, green]));
  const b = render(r, scene([green, red]));
  const centre = pixelOf(scene([red]), 0, 32, 24) * 3;
  t.ok(at(a.rgb, centre) > 0.5 && at(a.rgb, centre) > 4 * at(a.rgb, centre + 1), 'red (nearer) dominates the centre');
  t.same(Array.from(b.rgb), Array.from(a.rgb), 'swapping the input order gives the identical image');
  t.same(Array.from(b.alpha), Array.from(a.alpha));
  const far = render(r, scene([{ ...red, mean: [0.01, 0, 4] }, green]));
  t.ok(at(far.rgb, centre + 1) > 4 * at(far.rgb, centre), 'pushed behind, red loses to green');
  r.dispose();
});

t.test('alpha saturation: a deep stack terminates before T drops below 1e-4', async (t) => {
  const r = new Rasterizer('cpu');
  const cam: Camera = { worldToCamera: IDENTITY, fx: 100, fy: 100, cx: 32.5, cy: 24.5 };
  // 100 Gaussians of opacity 0.5 (raw 0): 0.5^13 = 1.2e-4 >= 1e-4 > 0.5^14, so exactly the first 13 (green) count.
  const stack = Array.from({ length: 100 }, (_, i) => ({
    mean: [0, 0, 2 + 0.01 * i],
    scale: [0.05, 0.05, 0.05],
    opacity: 0,
    sh: flat(i < 13 ? [0, 1, 0] : [1, 0, 0]),
  }));
  const scene: Scene = { clouds: [cloudOf(stack.reverse())], cameras: [cam], width: 64, height: 48, shDegree: 0 };
  const img = render(r, scene);
  const centre = pixelOf(scene, 0, 32, 24);
  t.equal(at(img.alpha, centre), Math.fround(1 - 2 ** -13), 'alpha = 1 - 0.5^13 exactly');
  t.ok(at(img.alpha, centre) >= 1 - 2e-4 && at(img.alpha, centre) <= 1 - 1e-4, 'alpha ~ 1, T_final >= 1e-4');
  t.equal(at(img.rgb, centre * 3), 0, 'nothing behind the 13th Gaussian is added');
  t.ok(Math.abs(at(img.rgb, centre * 3 + 1) - (1 - 2 ** -13)) < 1e-6, 'green = sum of the 13 weights');
  // Opaque stack: alpha clamps to 0.99 and the second Gaussian would leave T = 0.01^2 < 1e-4.
  const opaque = { ...scene, clouds: [cloudOf(stack.map((g) => ({ ...g, opacity: 20 })))] };
  t.equal(at(render(r, opaque).alpha, centre), Math.fround(0.99), 'opaque stack: alpha = 0.99 (one Gaussian)');
  r.dispose();
});

t.test('matches the float64 brute-force reference: 2 segments, different cameras, SH degrees 0..2', async (t) => {
  const r = new Rasterizer('cpu');
  for (const shDegree of [0, 1, 2]) {
    const random = rng(100 + shDegree);
    const k = (shDegree + 1) ** 2;
    const scene: Scene = {
      clouds: [randomCloud(random, 120, k), randomCloud(random, 80, k)],
      cameras: [
        { worldToCamera: lookAt([0.3, -0.2, -2], [0, 0, 0]), fx: 60, fy: 62, cx: 31.2, cy: 24.7 },
        { worldToCamera: lookAt([-1.2, 0.4, -1.4], [0.1, 0, 0]), fx: 70, fy: 70, cx: 33, cy: 23 },
      ],
      width: 64,
      height: 48,
      shDegree,
    };
    const got = render(r, scene);
    const want = reference(scene);
    t.ok(got.intersections > 200, `${got.intersections} intersections`);
    for (const key of ['rgb', 'alpha', 'depth'] as const) {
      const error = maxRelError(got[key], want[key]);
      t.ok(error < 1e-4, `degree ${shDegree} ${key}: max error ${error}`);
    }
    let covered = 0;
    for (const a of got.alpha) if (a > 0.5) covered++;
    t.ok(covered > 500, `${covered} pixels with alpha > 0.5`);
  }
  r.dispose();
});

t.test('SH degree 1 and 2: view-dependent colour', async (t) => {
  const r = new Rasterizer('cpu');
  const random = rng(5);
  for (const shDegree of [1, 2]) {
    const k = (shDegree + 1) ** 2;
    // Small, separated Gaussians seen by two cameras: rgb / alpha at the pixel under each mean is its colour.
    const positions = [
      [0, 0, 0],
      [0.25, -0.15, 0.1],
      [-0.2, 0.2, -0.1],
    ];
    const cloud = cloudOf(
      positions.map((mean) => ({
        mean,
        scale: [0.01, 0.01, 0.01],
        opacity: 3,
        sh: Array.from({ length: k * 3 }, () => random() - 0.5),
      })),
    );
    const cameras: Camera[] = [
      { worldToCamera: lookAt([0, 0, -2], [0, 0, 0]), fx: 80, fy: 80, cx: 32, cy: 24 },
      { worldToCamera: lookAt([1.5, -0.5, -1.2], [0, 0, 0]), fx: 80, fy: 80, cx: 32, cy: 24 },
    ];
    const scene: Scene = { clouds: [cloud, cloud], cameras, width: 64, height: 48, shDegree };
    const img = render(r, scene);
    const colours: number[][] = [];
    cameras.forEach((cam, s) => {
      for (let i = 0; i < positions.length; i++) {
        const g = project(cloud, i, cam, scene) as Projected;
        const pixel = pixelOf(scene, s, Math.floor(g.u), Math.floor(g.v));
        const a = at(img.alpha, pixel);
        const got = [0, 1, 2].map((c) => at(img.rgb, pixel * 3 + c) / a);
        t.ok(
          Math.max(...got.map((v, c) => Math.abs(v - at(g.colour, c)))) < 1e-5,
          `degree ${shDegree} camera ${s} #${i}`,
        );
        colours.push(g.colour);
      }
    });
    const change = Math.max(
      ...[0, 1, 2].map((c) => Math.abs(at(colours[0] as number[], c) - at(colours[3] as number[], c))),
    );
    t.ok(change > 0.02, `the same Gaussian changes colour between views (${change})`);
  }
  r.dispose();
});

t.test('workspace grows geometrically and is reused; empty segments and culled scenes render black', async (t) => {
  const r = new Rasterizer('cpu');
  const random = rng(9);
  const cam: Camera = { worldToCamera: lookAt([0, 0, -2], [0, 0, 0]), fx: 60, fy: 60, cx: 32, cy: 24 };
  const big: Scene = {
    clouds: [randomCloud(random, 150, 1), cloudOf([])],
    cameras: [cam, cam],
    width: 64,
    height: 48,
    shDegree: 0,
  };
  const first = render(r, big);
  const reserved = r.reservedBytes;
  t.ok(reserved > 0);
  const again = render(r, big);
  t.equal(r.reservedBytes, reserved, 'same frame again: no new allocation');
  t.same(Array.from(again.rgb), Array.from(first.rgb), 'deterministic');
  const empty = render(r, { ...big, clouds: [cloudOf([]), cloudOf([])] });
  t.equal(empty.intersections, 0);
  t.ok(empty.alpha.every((a) => a === 0) && empty.rgb.every((c) => c === 0), 'no Gaussians: black, alpha 0');
  t.ok(
    first.alpha.slice(48 * 64).every((a) => a === 0),
    'the empty segment is black',
  );
  const behind = cloudOf([{ mean: [0, 0, -3], scale: [0.1, 0.1, 0.1], opacity: 5, sh: flat([1, 1, 1]) }]);
  t.equal(render(r, { ...big, clouds: [behind, behind] }).intersections, 0, 'behind the camera: culled');
  r.dispose();
});

t.test('rasterizer rejects bad arguments with clear errors', async (t) => {
  const r = new Rasterizer('cpu');
  const f32 = (shape: number[]) => Tensor.zeros('cpu', 'f32', shape);
  const args = () => ({
    rowCounts: [2],
    means: f32([2, 3]),
    rotations: f32([2, 4]),
    scales: f32([2, 3]),
    opacities: [f32([2])],
    sh: [f32([2, 1, 3])],
    cameras: f32([1, 20]),
    width: 32,
    height: 16,
    shDegree: 0,
    rgb: f32([1, 16, 32, 3]),
    alpha: f32([1, 16, 32]),
  });
  t.doesNotThrow(() => r.forward(args()));
  t.throws(() => r.forward({ ...args(), means: f32([3, 3]) }), /means must be f32\[2,3\], got cpu f32\[3,3\]/);
  t.throws(() => r.forward({ ...args(), rotations: f32([2, 3]) }), /rotations must be f32\[2,4\]/);
  t.throws(() => r.forward({ ...args(), cameras: f32([1, 16]) }), /cameras must be f32\[1,20\]/);
  t.throws(() => r.forward({ ...args(), rgb: f32([1, 32, 16, 3]) }), /rgb must be f32\[1,16,32,3\]/);
  t.throws(() => r.forward({ ...args(), depth: f32([1, 16, 31]) }), /depth must be f32\[1,16,32\]/);
  t.throws(
    () => r.forward({ ...args(), opacities: [f32([1])] }),
    /opacities\[0\] must be a cpu f32 tensor of at least 2/,
  );
  t.throws(
    () => r.forward({ ...args(), sh: [f32([1, 3])], shDegree: 0 }),
    /sh\[0\] must be a cpu f32 tensor of at least 6 values \(2 Gaussians\), got cpu f32\[1,3\]/,
  );
  t.throws(() => r.forward({ ...args(), shDegree: 1 }), /sh\[0\] .* at least 24 values/);
  t.throws(() => r.forward({ ...args(), sh: [] }), /sh has 0 tensors for 1 segments/);
  t.throws(() => r.forward({ ...args(), shDegree: 3 }), /shDegree must be an integer in 0..2, got 3/);
  t.throws(() => r.forward({ ...args(), width: 0 }), /width must be an integer in 1..8192, got 0$/);
  t.throws(() => r.forward({ ...args(), height: 8193 }), /height must be an integer in 1..8192/);
  t.throws(() => r.forward({ ...args(), near: 0 }), /0 < near < far, got near 0, far inf$/);
  t.throws(() => r.forward({ ...args(), rowCounts: new Array(129).fill(0) }), /1 to 128 segments, got 129/);
  t.throws(() => new Rasterizer('cuda').forward(args()), /cuda|CUDA/);
  const disposed = args();
  disposed.scales.dispose();
  t.throws(() => r.forward(disposed), /scales was disposed/);
  r.dispose();
  t.throws(() => r.forward(args()), /RasterWorkspace was disposed/);
});
