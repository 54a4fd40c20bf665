// Tri-plane multi-resolution hash encoding (InsTaG's motion-field position encoder).
// Three 2D grids (xy, yz, xz), each with L levels of F features; bilinear interpolation per level.
// Level l has scale_l = base * b^l - 1 with b = (max / base)^(1 / (L - 1)); a point u in [0, 1] sits at
// u * scale_l + 0.5, so the dense grid needs ceil(scale_l) + 2 vertices per side. A level whose dense grid fits in
// 2^T entries is indexed densely, otherwise spatially hashed (x * 1 xor y * 2654435761) mod 2^T.
// Output per row: [plane xy: L x F | plane yz: L x F | plane xz: L x F].
#pragma once
#include "../core/segments.h"

namespace splatcast {

constexpr int kMaxHashLevels = 16;

struct HashgridConfig {
  int levels = 12;
  int features = 1;
  int log2_table = 17;
  float base_resolution = 16.f;
  float max_resolution = 256.f;
  float bound = 0.15f;  // positions are mapped from [-bound, bound] to [0, 1] and clamped
};

struct HashgridLayout {
  int levels;
  int features;
  float bound;
  float scale[kMaxHashLevels];
  uint32_t resolution[kMaxHashLevels];      // vertices per side of the dense grid
  uint32_t entries[kMaxHashLevels];         // table entries of the level
  uint32_t offset[kMaxHashLevels + 1];      // first entry of each level inside one plane
  SC_HD uint32_t plane_entries() const { return offset[levels]; }
  SC_HD int output_dim() const { return 3 * levels * features; }
  // Parameters of one encoder: 3 planes x plane_entries x F.
  SC_HD int64_t param_count() const { return 3LL * plane_entries() * features; }
};

// Validates the config (throws std::invalid_argument) and computes the table layout.
HashgridLayout make_hashgrid_layout(const HashgridConfig& config);

struct TriplaneHashgridArgs {
  Segments seg;
  HashgridLayout layout;
  const float* xyz;                   // [rows, 3], concatenated over segments
  PerSegment<const float*> tables;    // per segment: [param_count] (that segment's identity)
  float* out;                         // [rows, output_dim]
};

void triplane_hashgrid_forward_cpu(const TriplaneHashgridArgs& args);
void triplane_hashgrid_forward_cuda(const TriplaneHashgridArgs& args);

// Backward: grad_tables[s] ACCUMULATES dL/d table (the trainer zeroes it once per step; segments of one identity may
// share it): each output's gradient is scattered onto the four corners it interpolated, times their bilinear
// weights. grad_xyz (optional) is OVERWRITTEN with dL/d xyz through the bilinear weights; it is zero along an axis
// where the position was clamped to the grid (outside (-bound, bound)). CPU: one job per (plane, level), each
// walking all rows in order, so table sums are deterministic and race-free (levels own disjoint table ranges).
// CUDA: a thread per row, atomicAdd into the tables.
struct TriplaneHashgridBackwardArgs {
  Segments seg;
  HashgridLayout layout;
  const float* xyz;                  // [rows, 3]
  PerSegment<const float*> tables;   // per segment: [param_count]; read only for grad_xyz
  const float* grad_out;             // [rows, output_dim]: dL/d out
  PerSegment<float*> grad_tables;    // per segment: [param_count], accumulated
  float* grad_xyz;                   // [rows, 3], overwritten; null when not needed
};

void triplane_hashgrid_backward_cpu(const TriplaneHashgridBackwardArgs& args);
void triplane_hashgrid_backward_cuda(const TriplaneHashgridBackwardArgs& args);

}  // namespace splatcast
