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

// --- Backward. `add(p, v)` adds v to a per-identity gradient (+= on the CPU, atomicAdd on the GPU). ---

template <typename Add>
SC_HD inline void aligner_row_backward(const AlignerApplyBackwardArgs& a, int s, int32_t row, Add add) {
  const size_t r3 = static_cast<size_t>(row) * 3, r6 = static_cast<size_t>(row) * 6;
  float* mean = a.grad_means.at[s] ? a.grad_means.at[s] + static_cast<size_t>(row - a.seg.offset[s]) * 3 : nullptr;
  for (int i = 0; i < 3; ++i) {
    const float gq = a.grad_query ? a.grad_query[r3 + i] : 0.f;
    a.grad_raw[r6 + i] = gq;
    if (mean) add(mean + i, gq);
    // d/dx (tanh(x / 5) * 0.25 + 1) = 0.05 (1 - tanh(x / 5)^2)
    const float t = tanhf(a.raw[r6 + 3 + i] / 5.f);
    a.grad_raw[r6 + 3 + i] = a.grad_tau ? a.grad_tau[r3 + i] * 0.05f * (1.f - t * t) : 0.f;
  }
}

template <typename Add>
SC_HD inline void deform_row_backward(const DeformGaussiansBackwardArgs& a, int s, int32_t row, Add add) {
  const size_t local = static_cast<size_t>(row - a.seg.offset[s]);
  const size_t r3 = static_cast<size_t>(row) * 3, r4 = static_cast<size_t>(row) * 4;
  const float* delta = a.deltas + static_cast<size_t>(row) * a.stride;
  float* grad_delta = a.grad_deltas + static_cast<size_t>(row) * a.stride;
  for (int c = 0; c < a.stride; ++c) grad_delta[c] = 0.f;  // columns may repeat: every attribute adds its part

  for (int i = 0; i < 3; ++i) {
    // The displacement feeds mean' and, through grad_displacement, the hook.
    const float g = a.grad_means[r3 + i] + (a.grad_displacement ? a.grad_displacement[r3 + i] : 0.f);
    const float tau = a.tau ? a.tau[r3 + i] : 1.f;
    grad_delta[a.xyz_column + i] += g * a.displacement_scale * tau;
    if (a.grad_tau) a.grad_tau[r3 + i] = g * delta[a.xyz_column + i] * a.displacement_scale;
    if (a.grad_base_means.at[s]) add(a.grad_base_means.at[s] + local * 3 + i, a.grad_means[r3 + i]);
  }

  if (a.grad_rotations) {
    const float* rotation = a.rotations.at[s] + local * 4;
    const float* g = a.grad_rotations + r4;
    float q[4];
    for (int i = 0; i < 4; ++i) q[i] = rotation[i] + (a.rotation_column >= 0 ? delta[a.rotation_column + i] : 0.f);
    const float norm = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    const float inv = 1.f / fmaxf(norm, 1e-12f);
    // Above the floor, d(q / |q|) = (g - u (u . g)) / |q| with u = q / |q|; at the floor the divisor is constant.
    float u_dot_g = 0.f;
    if (norm > 1e-12f)
      for (int i = 0; i < 4; ++i) u_dot_g += q[i] * inv * g[i];
    for (int i = 0; i < 4; ++i) {
      const float dq = (g[i] - q[i] * inv * u_dot_g) * inv;
      if (a.rotation_column >= 0) grad_delta[a.rotation_column + i] += dq;
      if (a.grad_base_rotations.at[s]) add(a.grad_base_rotations.at[s] + local * 4 + i, dq);
    }
  }

  if (a.grad_scales) {
    const float* scale = a.scales.at[s] + local * 3;
    for (int i = 0; i < 3; ++i) {
      // softplus'(x) = sigmoid(x)
      const float x = scale[i] + (a.scale_column >= 0 ? delta[a.scale_column + i] : 0.f);
      const float ds = a.grad_scales[r3 + i] / (1.f + expf(-x));
      if (a.scale_column >= 0) grad_delta[a.scale_column + i] += ds;
      if (a.grad_base_scales.at[s]) add(a.grad_base_scales.at[s] + local * 3 + i, ds);
    }
  }
}

}  // namespace splatcast
