// 3D Gaussian Splatting rasterizer, forward and backward, batched over segments: segment s is one image of one
// identity's Gaussians seen by its own camera. The algorithm (3DGS / gsplat: EWA projection with 0.3 px dilation,
// 16x16 tiles, depth-sorted front-to-back blending, alpha <= 0.99, skip alpha < 1/255, stop before T < 1e-4) and its
// exact conventions are documented in native/src/ops/rasterizer.h, the backward in rasterizer_backward.h. CPU and
// CUDA render bit-identical images; their gradients agree to float rounding (CUDA sums them with atomics).
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

export interface RasterizeOptions {
  /**
   * Keep what backward needs (gsplat style: the sort, each pixel's final transmittance and last blended Gaussian,
   * the projected Gaussians) in the rasterizer's workspace. Off, the forward does no extra work or allocation.
   */
  train?: boolean;
}

/**
 * Upstream gradients in, parameter gradients out. Every output is overwritten; culled Gaussians get zeros. The
 * per-identity inputs (opacities, sh) get per-row gradients: the caller maps rows back to identities.
 */
export interface RasterizeBackwardArgs {
  /** [B, H, W, 3] in: dL/d rgb. */
  dRgb: Tensor<'f32'>;
  /** [B, H, W] in: dL/d alpha. */
  dAlpha: Tensor<'f32'>;
  /** [B, H, W] in, optional: dL/d depth (whether or not the forward wrote depth). */
  dDepth?: Tensor<'f32'>;
  /** [rows, 3] out: dL/d world-space means (through the projection, the EWA Jacobian and the SH direction). */
  dMeans: Tensor<'f32'>;
  /** [rows, 4] out: dL/d the input quaternions, before their normalisation. */
  dRotations: Tensor<'f32'>;
  /** [rows, 3] out: dL/d the activated scales. */
  dScales: Tensor<'f32'>;
  /** [rows] out: dL/d raw opacities (through the sigmoid). */
  dOpacities: Tensor<'f32'>;
  /** [rows, (shDegree + 1)^2, 3] out: dL/d SH coefficients. */
  dSh: Tensor<'f32'>;
  /**
   * [rows] out, optional: |dL/d 2D mean| in NDC units (the pixel gradient times W/2, H/2), the view-space
   * positional gradient norm that 3DGS densification accumulates and thresholds (0.0002).
   */
  means2dGradNorm?: Tensor<'f32'>;
  /** [rows] out, optional: screen radius in pixels (ceil of 3 sigma), 0 where culled: 3DGS's visibility. */
  radii?: Tensor<'f32'>;
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
 *
 * Training: forward(args, { train: true }), then backward(grads) for that forward. The context lives in the
 * workspace until the next forward; the forward's input tensors must stay alive and unchanged until backward.
 */
export class Rasterizer {
  private readonly workspace: NativeRasterWorkspace;
  /** The last forward's inputs when it was a training one (backward hands them back), else why there are none. */
  private context: { args: RasterizeArgs } | { missing: string } = { missing: 'no forward has run yet' };

  constructor(readonly device: DeviceKind) {
    this.workspace = new addon.RasterWorkspace(device === 'cuda' ? 1 : 0);
  }

  forward(args: RasterizeArgs, { train = false }: RasterizeOptions = {}): RasterizeStats {
    const options = { width: args.width, height: args.height, shDegree: args.shDegree, near: args.near, far: args.far };
    this.context = { missing: 'the last forward failed, leaving no training context' };
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
      train,
    );
    this.context = train
      ? { args: { ...args, opacities: [...args.opacities], sh: [...args.sh] } }
      : { missing: 'the last forward ran without { train: true } and replaced the training context' };
    return { intersections };
  }

  /** Gradients of the last forward, which must have been a training one (see RasterizeBackwardArgs). */
  backward(grads: RasterizeBackwardArgs): void {
    if ('missing' in this.context)
      throw new Error(
        `Rasterizer.backward needs a training forward just before it: ${this.context.missing}; ` +
          'run forward(args, { train: true }) first',
      );
    const { args } = this.context;
    this.workspace.backward(
      args.means.native,
      args.rotations.native,
      args.scales.native,
      args.opacities.map((t) => t.native),
      args.sh.map((t) => t.native),
      args.cameras.native,
      grads.dRgb.native,
      grads.dAlpha.native,
      grads.dDepth?.native ?? null,
      grads.dMeans.native,
      grads.dRotations.native,
      grads.dScales.native,
      grads.dOpacities.native,
      grads.dSh.native,
      grads.means2dGradNorm?.native ?? null,
      grads.radii?.native ?? null,
    );
  }

  /** Bytes of scratch memory currently held (on the rasterizer's device). */
  get reservedBytes(): number {
    return this.workspace.reservedBytes;
  }

  dispose(): void {
    this.context = { missing: 'the rasterizer was disposed' };
    this.workspace.dispose();
  }
}
