// 3D Gaussian Splatting rasterizer (forward only), batched over segments: segment s is one image of one identity's
// Gaussians seen by its own camera. The algorithm (3DGS / gsplat: EWA projection with 0.3 px dilation, 16x16 tiles,
// depth-sorted front-to-back blending, alpha <= 0.99, skip alpha < 1/255, stop before T < 1e-4) and its exact
// conventions are documented in native/src/ops/rasterizer.h. CPU and CUDA render bit-identical images.
import { addon, type NativeRasterWorkspace } from '../native/addon.js';
import type { DeviceKind, Tensor } from '../tensor.js';

/** Floats per camera row: world-to-camera 4x4 row-major (OpenCV: looks down +z, y down), then fx, fy, cx, cy. */
export const CAMERA_STRIDE = 20;

export interface Camera {
  /** World-to-camera 4x4, row-major; only the top three rows are read. */
  worldToCamera: ArrayLike<number>;
  /** Focal lengths and principal point in pixels; pixel (i, j) has its centre at (i + 0.5, j + 0.5). */
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/** Packs cameras into the [B, CAMERA_STRIDE] layout that `cameras` expects. */
export function packCameras(cameras: readonly Camera[]): Float32Array {
  const out = new Float32Array(cameras.length * CAMERA_STRIDE);
  cameras.forEach((c, s) => {
    if (c.worldToCamera.length !== 16) throw new RangeError(`camera ${s}: worldToCamera needs 16 values`);
    out.set(Array.from(c.worldToCamera), s * CAMERA_STRIDE);
    out.set([c.fx, c.fy, c.cx, c.cy], s * CAMERA_STRIDE + 16);
  });
  return out;
}

export interface RasterizeArgs {
  /** Gaussians per segment (at most 128 segments); rows of all segments are concatenated. */
  rowCounts: readonly number[];
  /** [rows, 3] world-space means (already deformed). */
  means: Tensor<'f32'>;
  /** [rows, 4] quaternions (w, x, y, z); normalised inside. */
  rotations: Tensor<'f32'>;
  /** [rows, 3] activated (positive) scales. */
  scales: Tensor<'f32'>;
  /** Per segment: that identity's raw opacities [n_s] (sigmoid applied inside), read at local rows. */
  opacities: readonly Tensor<'f32'>[];
  /** Per segment: that identity's SH coefficients [n_s, (shDegree + 1)^2, 3], read at local rows. */
  sh: readonly Tensor<'f32'>[];
  /** [B, CAMERA_STRIDE], one camera per segment (see packCameras). */
  cameras: Tensor<'f32'>;
  /** Image size shared by the batch, 1..8192. */
  width: number;
  height: number;
  /** 0, 1 or 2, the same for the whole batch. */
  shDegree: number;
  /** Gaussians with camera z < near are culled (default 0.01). */
  near?: number;
  /** Gaussians with camera z > far are culled (default: none). */
  far?: number;
  /** [B, H, W, 3] out: sum of colour * alpha * T, premultiplied over black. */
  rgb: Tensor<'f32'>;
  /** [B, H, W] out: 1 - final transmittance. */
  alpha: Tensor<'f32'>;
  /** [B, H, W] out, optional: sum of camera z * alpha * T (divide by alpha for the expected depth). */
  depth?: Tensor<'f32'>;
}

export interface RasterizeStats {
  /** (Gaussian, tile) pairs binned this call: the sort size and the blend's work. */
  intersections: number;
}

/**
 * Owns the rasterizer's scratch memory on one device (projected Gaussians, tile keys, sort buffers, tile ranges).
 * Buffers grow geometrically and never shrink, so steady-state frames allocate nothing. On CUDA, each forward
 * reads the intersection count back once (an 8-byte copy that waits for the projection) to size the key buffers;
 * the rest is queued without waiting. Keep one Rasterizer per render loop: calls on one object must not overlap.
 */
export class Rasterizer {
  private readonly workspace: NativeRasterWorkspace;

  constructor(readonly device: DeviceKind) {
    this.workspace = new addon.RasterWorkspace(device === 'cuda' ? 1 : 0);
  }

  forward(args: RasterizeArgs): RasterizeStats {
    const options = { width: args.width, height: args.height, shDegree: args.shDegree, near: args.near, far: args.far };
    const intersections = this.workspace.forward(
      options,
      [...args.rowCounts],
      args.means.native,
      args.rotations.native,
      args.scales.native,
      args.opacities.map((t) => t.native),
      args.sh.map((t) => t.native),
      args.cameras.native,
      args.rgb.native,
      args.alpha.native,
      args.depth?.native ?? null,
    );
    return { intersections };
  }

  /** Bytes of scratch memory currently held (on the rasterizer's device). */
  get reservedBytes(): number {
    return this.workspace.reservedBytes;
  }

  dispose(): void {
    this.workspace.dispose();
  }
}
