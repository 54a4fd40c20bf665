// Per-frame Gaussian deformation (InsTaG inference): gather each identity's base rows into the batch, apply the
// motion aligner, and turn motion-field deltas into render-ready means, rotations and scales.
// Per-segment base tensors hold one identity's Gaussians and are read at local rows: row r of segment s reads
// base[s][r - offset[s]]. Everything else is [rows, ...], concatenated over segments.
#pragma once
#include "../core/segments.h"

namespace splatcast {

struct GatherRowsArgs {
  Segments seg;
  int32_t columns;
  PerSegment<const float*> sources;  // per segment: [rows_of(s), columns]
  float* out;                        // [rows, columns]
};

// The aligner MLP's 6 outputs per row become the hash-encoder query (mean + offset) and the displacement scale tau.
struct AlignerApplyArgs {
  Segments seg;
  PerSegment<const float*> means;  // per segment: [rows_of(s), 3]
  const float* raw;                // [rows, 6]: offset xyz, then pre-activation scale xyz
  float* query;                    // [rows, 3] = mean + offset
  float* tau;                      // [rows, 3] = tanh(raw / 5) * 0.25 + 1 (official activation)
};

struct DeformGaussiansArgs {
  Segments seg;
  PerSegment<const float*> means;      // per segment: [rows_of(s), 3]
  PerSegment<const float*> rotations;  // per segment: [rows_of(s), 4] quaternion (w, x, y, z), unnormalised
  PerSegment<const float*> scales;     // per segment: [rows_of(s), 3] before softplus
  const float* deltas;                 // [rows, stride] motion-field output
  int32_t stride;
  int32_t xyz_column;       // d_xyz at deltas columns [xyz_column, xyz_column + 3)
  int32_t rotation_column;  // d_rotation (4 columns), or -1 when the field has none (mouth)
  int32_t scale_column;     // d_scale (3 columns), or -1
  const float* tau;         // [rows, 3] aligner scale, or null for 1
  float displacement_scale;
  float* out_means;         // [rows, 3] mean + displacement
  float* out_rotations;     // [rows, 4] normalize(q + d_rotation)
  float* out_scales;        // [rows, 3] softplus(s + d_scale)
  float* out_displacement;  // [rows, 3] d_xyz * displacement_scale * tau: the face's is the mouth hook's input
};

void gather_rows_cpu(const GatherRowsArgs& args);
void gather_rows_cuda(const GatherRowsArgs& args);
void aligner_apply_cpu(const AlignerApplyArgs& args);
void aligner_apply_cuda(const AlignerApplyArgs& args);
void deform_gaussians_cpu(const DeformGaussiansArgs& args);
void deform_gaussians_cuda(const DeformGaussiansArgs& args);

// --- Backward ----------------------------------------------------------------------------------------------------
// Per-row gradients (grad_raw, grad_deltas, grad_tau) are OVERWRITTEN. Gradients of the per-identity base tensors
// (gather sources, aligner means, base Gaussians) ACCUMULATE: they are parameters, zeroed by the trainer once per
// step, and segments of one identity may pass the same buffers (CPU: segments in order; CUDA: atomics).

struct GatherRowsBackwardArgs {
  Segments seg;
  int32_t columns;
  const float* grad_out;            // [rows, columns]
  PerSegment<float*> grad_sources;  // per segment: [rows_of(s), columns], accumulated
};

struct AlignerApplyBackwardArgs {
  Segments seg;
  const float* raw;               // [rows, 6]
  const float* grad_query;        // [rows, 3], or null when no gradient reaches the query
  const float* grad_tau;          // [rows, 3], or null
  float* grad_raw;                // [rows, 6], overwritten
  PerSegment<float*> grad_means;  // per segment: [rows_of(s), 3], accumulated; all null when not needed
};

// Through displacement = d_xyz * displacement_scale * tau, mean' = mean + displacement, rotation' = q / max(|q|,
// 1e-12) with q = rotation + d_rotation, scale' = softplus(s + d_scale).
struct DeformGaussiansBackwardArgs {
  Segments seg;
  PerSegment<const float*> rotations;  // per segment: [rows_of(s), 4], as in the forward
  PerSegment<const float*> scales;     // per segment: [rows_of(s), 3]
  const float* deltas;                 // [rows, stride]
  int32_t stride, xyz_column, rotation_column, scale_column;  // as in the forward
  const float* tau;                    // [rows, 3], or null for 1
  float displacement_scale;
  const float* grad_means;         // [rows, 3]: dL/d mean'
  const float* grad_rotations;     // [rows, 4], or null
  const float* grad_scales;        // [rows, 3], or null
  const float* grad_displacement;  // [rows, 3], or null: dL/d displacement from its other reader (the hook)
  float* grad_deltas;              // [rows, stride], overwritten (zero in columns no attribute reads)
  float* grad_tau;                 // [rows, 3], overwritten; null when not needed (always without tau)
  PerSegment<float*> grad_base_means, grad_base_rotations, grad_base_scales;  // accumulated; all null when not needed
};

void gather_rows_backward_cpu(const GatherRowsBackwardArgs& args);
void gather_rows_backward_cuda(const GatherRowsBackwardArgs& args);
void aligner_apply_backward_cpu(const AlignerApplyBackwardArgs& args);
void aligner_apply_backward_cuda(const AlignerApplyBackwardArgs& args);
void deform_gaussians_backward_cpu(const DeformGaussiansBackwardArgs& args);
void deform_gaussians_backward_cuda(const DeformGaussiansBackwardArgs& args);

}  // namespace splatcast
