// Per-frame Gaussian deformation (InsTaG inference). Per-identity base tensors are passed one per segment and read
// at local rows; every other tensor is [rows, ...] with all segments concatenated (segment s has rowCounts[s] rows).
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

const deviceOf = (t: Tensor) => (t.device === 'cuda' ? 1 : 0);

/** Copies each segment's [rowCounts[s], C] source into its rows of out ([rows, C]). */
export function gatherRows(rowCounts: readonly number[], sources: readonly Tensor<'f32'>[], out: Tensor<'f32'>): void {
  addon.gatherRows(
    deviceOf(out),
    [...rowCounts],
    sources.map((t) => t.native),
    out.native,
  );
}

/**
 * Applies the motion aligner's raw output ([rows, 6]): query = mean + raw[0..2] (the hash encoders' input) and
 * tau = tanh(raw[3..5] / 5) * 0.25 + 1 (the displacement scale). means: per segment [rowCounts[s], 3].
 */
export function alignerApply(
  rowCounts: readonly number[],
  means: readonly Tensor<'f32'>[],
  raw: Tensor<'f32'>,
  query: Tensor<'f32'>,
  tau: Tensor<'f32'>,
): void {
  addon.alignerApply(
    deviceOf(raw),
    [...rowCounts],
    means.map((t) => t.native),
    raw.native,
    query.native,
    tau.native,
  );
}

/** Where each delta starts in the motion decoder's output row; an absent delta leaves that attribute as is. */
export interface DeltaColumns {
  xyz: number;
  rotation?: number;
  scale?: number;
}

/** Face decoder outputs: d_xyz (3), d_rotation (4), d_opacity (1, unused at render), d_scale (3). */
export const FACE_DELTA_COLUMNS: DeltaColumns = { xyz: 0, rotation: 3, scale: 8 };
/** Mouth decoder outputs: only d_xyz is used. */
export const MOUTH_DELTA_COLUMNS: DeltaColumns = { xyz: 0 };

/** One identity's Gaussians per segment: means [n, 3], rotations [n, 4] (w, x, y, z), scales [n, 3] pre-softplus. */
export interface GaussianBases {
  means: readonly Tensor<'f32'>[];
  rotations: readonly Tensor<'f32'>[];
  scales: readonly Tensor<'f32'>[];
}

/** Render-ready Gaussians, [rows, 3 | 4 | 3], plus the applied offset [rows, 3] (the face's feeds the hook). */
export interface DeformedGaussians {
  means: Tensor<'f32'>;
  rotations: Tensor<'f32'>;
  scales: Tensor<'f32'>;
  displacement: Tensor<'f32'>;
}

/**
 * displacement = d_xyz * displacementScale * tau (tau: the aligner's [rows, 3] output, or null for 1);
 * means' = mean + displacement; rotations' = normalize(q + d_rotation); scales' = softplus(s + d_scale).
 */
export function deformGaussians(
  rowCounts: readonly number[],
  bases: GaussianBases,
  deltas: Tensor<'f32'>,
  columns: DeltaColumns,
  tau: Tensor<'f32'> | null,
  displacementScale: number,
  out: DeformedGaussians,
): void {
  addon.deformGaussians(
    deviceOf(deltas),
    [...rowCounts],
    bases.means.map((t) => t.native),
    bases.rotations.map((t) => t.native),
    bases.scales.map((t) => t.native),
    deltas.native,
    tau ? tau.native : null,
    {
      xyzColumn: columns.xyz,
      rotationColumn: columns.rotation ?? -1,
      scaleColumn: columns.scale ?? -1,
      displacementScale,
    },
    out.means.native,
    out.rotations.native,
    out.scales.native,
    out.displacement.native,
  );
}
