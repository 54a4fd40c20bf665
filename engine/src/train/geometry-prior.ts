// The geometry prior of adaptation (InsTaG eq. 12). The paper estimates depth and normals per frame with Sapiens,
// which is not available here; instead each frame's tracked face mesh gives them: every one of the 468 landmarks sits
// where the tracker saw it in the image, at the depth of its canonical-face vertex under the frame's head pose, and
// the mesh's triangles are rasterised into a depth map and a normal map (smooth vertex normals, facing the camera).
// It covers the face only (no hair, ears or neck) and has the canonical face's shape in depth, which is why the
// depth term is scale- and shift-invariant and the weights are small.
import type { TrainingFrame } from './training-data.js';

export interface MeshPriorInput {
  /** [478 * 2] landmarks in pixels at `size` (the first 468 are the mesh's vertices). */
  landmarks: ArrayLike<number>;
  /** [16] head-to-camera pose, row-major 4x4 (camera looks along +z). */
  pose: ArrayLike<number>;
  /** [468 * 3] the canonical face's vertices in head space (metres). */
  vertices: ArrayLike<number>;
  /** [T * 3] triangles. */
  triangles: ArrayLike<number>;
  intrinsics: TrainingFrame['intrinsics'];
  size: number;
}

/** [size * size * 4]: normal x, y, z and depth per pixel; depth 0 where the mesh does not cover the pixel. */
export function renderMeshPrior(input: MeshPriorInput): Float32Array {
  const { landmarks, pose, vertices, triangles, intrinsics: k, size } = input;
  const V = vertices.length / 3;
  // Camera-space points: tracked image position, depth of the posed canonical vertex.
  const points = new Float64Array(V * 3);
  for (let i = 0; i < V; i++) {
    const [x, y, z] = [0, 1, 2].map((a) => vertices[3 * i + a] as number) as [number, number, number];
    const depth = (pose[8] as number) * x + (pose[9] as number) * y + (pose[10] as number) * z + (pose[11] as number);
    points[3 * i] = (((landmarks[2 * i] as number) - k.cx) / k.fx) * depth;
    points[3 * i + 1] = (((landmarks[2 * i + 1] as number) - k.cy) / k.fy) * depth;
    points[3 * i + 2] = depth;
  }
  // Vertex normals: area-weighted face normals, each turned towards the camera.
  const normals = new Float64Array(V * 3);
  const corner = (i: number) => [points[3 * i] as number, points[3 * i + 1] as number, points[3 * i + 2] as number];
  for (let t = 0; t + 2 < triangles.length; t += 3) {
    const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]] as [number, number, number];
    const [p0, p1, p2] = [corner(a), corner(b), corner(c)];
    const e1 = p1.map((v, i) => v - (p0[i] as number));
    const e2 = p2.map((v, i) => v - (p0[i] as number));
    let n: number[] = [
      (e1[1] as number) * (e2[2] as number) - (e1[2] as number) * (e2[1] as number),
      (e1[2] as number) * (e2[0] as number) - (e1[0] as number) * (e2[2] as number),
      (e1[0] as number) * (e2[1] as number) - (e1[1] as number) * (e2[0] as number),
    ];
    if (n.reduce((sum, x, i) => sum + x * (p0[i] as number), 0) > 0) n = n.map((x) => -x);
    for (const v of [a, b, c])
      for (let i = 0; i < 3; i++) normals[3 * v + i] = (normals[3 * v + i] as number) + (n[i] as number);
  }
  for (let i = 0; i < V; i++) {
    const len = Math.hypot(normals[3 * i] as number, normals[3 * i + 1] as number, normals[3 * i + 2] as number) || 1;
    for (let a = 0; a < 3; a++) normals[3 * i + a] = (normals[3 * i + a] as number) / len;
  }

  const out = new Float32Array(size * size * 4);
  const u = (i: number) => landmarks[2 * i] as number;
  const v = (i: number) => landmarks[2 * i + 1] as number;
  for (let t = 0; t + 2 < triangles.length; t += 3) {
    const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]] as [number, number, number];
    const area = (u(b) - u(a)) * (v(c) - v(a)) - (u(c) - u(a)) * (v(b) - v(a));
    if (Math.abs(area) < 1e-9) continue;
    const x0 = Math.max(0, Math.floor(Math.min(u(a), u(b), u(c)) - 0.5));
    const x1 = Math.min(size - 1, Math.ceil(Math.max(u(a), u(b), u(c)) - 0.5));
    const y0 = Math.max(0, Math.floor(Math.min(v(a), v(b), v(c)) - 0.5));
    const y1 = Math.min(size - 1, Math.ceil(Math.max(v(a), v(b), v(c)) - 0.5));
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) {
        const [px, py] = [x + 0.5, y + 0.5];
        // Barycentric weights in the image; depth interpolated as 1/z (perspective-correct).
        const wa = ((u(b) - px) * (v(c) - py) - (u(c) - px) * (v(b) - py)) / area;
        const wb = ((u(c) - px) * (v(a) - py) - (u(a) - px) * (v(c) - py)) / area;
        const wc = 1 - wa - wb;
        if (wa < 0 || wb < 0 || wc < 0) continue;
        const za = points[3 * a + 2] as number;
        const zb = points[3 * b + 2] as number;
        const zc = points[3 * c + 2] as number;
        const depth = 1 / (wa / za + wb / zb + wc / zc);
        const p = 4 * (y * size + x);
        const current = out[p + 3] as number;
        if (!(depth > 0) || (current > 0 && current <= depth)) continue;
        const n = [0, 1, 2].map(
          (i) =>
            wa * (normals[3 * a + i] as number) +
            wb * (normals[3 * b + i] as number) +
            wc * (normals[3 * c + i] as number),
        );
        const len = Math.hypot(...n) || 1;
        out.set([(n[0] as number) / len, (n[1] as number) / len, (n[2] as number) / len, depth], p);
      }
  }
  return out;
}
