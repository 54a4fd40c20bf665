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

const columnOptions = (columns: DeltaColumns, displacementScale: number) => ({
  xyzColumn: columns.xyz,
  rotationColumn: columns.rotation ?? -1,
  scaleColumn: columns.scale ?? -1,
  displacementScale,
});

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
    columnOptions(columns, displacementScale),
    out.means.native,
    out.rotations.native,
    out.scales.native,
    out.displacement.native,
  );
}

// Backward passes. Per-row gradients are WRITTEN (overwritten); gradients of per-identity tensors (gather sources,
// aligner means, base Gaussians) are ADDED: they are parameters, zeroed by the trainer once per step, and segments
// of one identity may pass the same gradient tensors.

/** Backward of gatherRows(): adds segment s's rows of gradOut ([rows, C]) into gradSources[s] ([rowCounts[s], C]). */
export function gatherRowsBackward(
  rowCounts: readonly number[],
  gradOut: Tensor<'f32'>,
  gradSources: readonly Tensor<'f32'>[],
): void {
  addon.gatherRowsBackward(
    deviceOf(gradOut),
    [...rowCounts],
    gradOut.native,
    gradSources.map((t) => t.native),
  );
}

/**
 * Backward of alignerApply(): writes gradRaw ([rows, 6]) from the query's and tau's gradients ([rows, 3] each;
 * null = none reaches it) and adds the query's gradient into gradMeans[s] ([rowCounts[s], 3]) unless it is null.
 */
export function alignerApplyBackward(
  rowCounts: readonly number[],
  raw: Tensor<'f32'>,
  grads: { query: Tensor<'f32'> | null; tau: Tensor<'f32'> | null },
  gradRaw: Tensor<'f32'>,
  gradMeans: readonly Tensor<'f32'>[] | null,
): void {
  addon.alignerApplyBackward(
    deviceOf(raw),
    [...rowCounts],
    raw.native,
    grads.query ? grads.query.native : null,
    grads.tau ? grads.tau.native : null,
    gradRaw.native,
    gradMeans ? gradMeans.map((t) => t.native) : null,
  );
}

/** Gradients of deformGaussians()' outputs; null = none reaches that output. */
export interface DeformedGaussiansGrads {
  means: Tensor<'f32'>;
  rotations: Tensor<'f32'> | null;
  scales: Tensor<'f32'> | null;
  /** From the displacement's other reader (the face's feeds the mouth hook). */
  displacement: Tensor<'f32'> | null;
}

/** Per-segment gradients of the base Gaussians (added to); null = not needed. */
export interface GaussianBasesGrads {
  means: readonly Tensor<'f32'>[] | null;
  rotations: readonly Tensor<'f32'>[] | null;
  scales: readonly Tensor<'f32'>[] | null;
}

/**
 * Backward of deformGaussians() with the same bases (their means are not read), deltas, columns, tau and scale.
 * Writes gradDeltas ([rows, stride]; zero in columns no attribute reads) and gradTau ([rows, 3]; null when not
 * needed, and always without tau); adds into gradBases. The rotation goes through torch's normalize (eps 1e-12),
 * the scale through softplus.
 */
export function deformGaussiansBackward(
  rowCounts: readonly number[],
  bases: GaussianBases,
  deltas: Tensor<'f32'>,
  columns: DeltaColumns,
  tau: Tensor<'f32'> | null,
  displacementScale: number,
  gradOut: DeformedGaussiansGrads,
  gradDeltas: Tensor<'f32'>,
  gradTau: Tensor<'f32'> | null,
  gradBases: GaussianBasesGrads,
): void {
  const natives = (list: readonly Tensor<'f32'>[] | null) => (list ? list.map((t) => t.native) : null);
  addon.deformGaussiansBackward(
    deviceOf(deltas),
    [...rowCounts],
    bases.rotations.map((t) => t.native),
    bases.scales.map((t) => t.native),
    deltas.native,
    tau ? tau.native : null,
    columnOptions(columns, displacementScale),
    gradOut.means.native,
    gradOut.rotations ? gradOut.rotations.native : null,
    gradOut.scales ? gradOut.scales.native : null,
    gradOut.displacement ? gradOut.displacement.native : null,
    gradDeltas.native,
    gradTau ? gradTau.native : null,
    natives(gradBases.means),
    natives(gradBases.rotations),
    natives(gradBases.scales),
  );
}
