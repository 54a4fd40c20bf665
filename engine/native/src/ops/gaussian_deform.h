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

}  // namespace splatcast
