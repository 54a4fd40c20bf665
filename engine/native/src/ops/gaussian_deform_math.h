// Per-row arithmetic of the deformation ops, shared verbatim by the CPU twin and the CUDA kernels.
#pragma once
#include <cmath>

#include "gaussian_deform.h"

namespace splatcast {

SC_HD inline void aligner_row(const AlignerApplyArgs& a, int s, int32_t row) {
  const float* mean = a.means.at[s] + static_cast<size_t>(row - a.seg.offset[s]) * 3;
  const float* raw = a.raw + static_cast<size_t>(row) * 6;
  float* query = a.query + static_cast<size_t>(row) * 3;
  float* tau = a.tau + static_cast<size_t>(row) * 3;
  for (int i = 0; i < 3; ++i) {
    query[i] = mean[i] + raw[i];
    tau[i] = tanhf(raw[3 + i] / 5.f) * 0.25f + 1.f;
  }
}

// log(1 + exp(x)) without overflow for large x or loss of precision for very negative x.
SC_HD inline float softplus(float x) { return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x))); }

SC_HD inline void deform_row(const DeformGaussiansArgs& a, int s, int32_t row) {
  const size_t local = static_cast<size_t>(row - a.seg.offset[s]);
  const float* mean = a.means.at[s] + local * 3;
  const float* rotation = a.rotations.at[s] + local * 4;
  const float* scale = a.scales.at[s] + local * 3;
  const float* delta = a.deltas + static_cast<size_t>(row) * a.stride;
  const size_t r3 = static_cast<size_t>(row) * 3;

  for (int i = 0; i < 3; ++i) {
    float tau = a.tau ? a.tau[r3 + i] : 1.f;
    float d = delta[a.xyz_column + i] * a.displacement_scale * tau;
    a.out_displacement[r3 + i] = d;
    a.out_means[r3 + i] = mean[i] + d;
  }

  float q[4];
  for (int i = 0; i < 4; ++i) q[i] = rotation[i] + (a.rotation_column >= 0 ? delta[a.rotation_column + i] : 0.f);
  // torch.nn.functional.normalize: divide by max(norm, 1e-12).
  float inv = 1.f / fmaxf(sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]), 1e-12f);
  float* out_rotation = a.out_rotations + static_cast<size_t>(row) * 4;
  for (int i = 0; i < 4; ++i) out_rotation[i] = q[i] * inv;

  for (int i = 0; i < 3; ++i)
    a.out_scales[r3 + i] = softplus(scale[i] + (a.scale_column >= 0 ? delta[a.scale_column + i] : 0.f));
}

}  // namespace splatcast
