// Negative Contrast Loss of identity-free pre-training (InsTaG eqs. 6, 7 and 13): two personalised motion fields
// queried at the same Gaussians under the same condition should not move them the same way. Per Gaussian the
// displacements a_i, b_i (columns 0..2 of each field's decoder output) give the truncated dot product
// max(0, a_i . b_i); the loss is `weight` times its mean over the Gaussians:
//   L = weight / n * sum_i max(0, a_i . b_i)
// It stops pushing once the two disagree in direction or one is near zero, so it asks for the least personal
// motion, not for opposite motion. Raw decoder outputs are compared (before the displacement scale), so the term
// has the photometric loss's magnitude at the paper's weight of 1.
#pragma once
#include <cstdint>

#include "../core/common.h"

namespace splatcast {

struct ContrastLossArgs {
  int64_t n;
  const float* a;  // [n, a_stride], displacement in columns 0..2
  int32_t a_stride;
  const float* b;  // [n, b_stride]
  int32_t b_stride;
  float weight;
  float* loss;    // [1], written
  float* grad_a;  // [n, a_stride]: columns 0..2 added to; or null
  float* grad_b;  // [n, b_stride]: columns 0..2 added to; or null
};

// One Gaussian's share of the loss; adds its gradients (d/da = weight/n * b where the dot is positive, and back).
SC_HD inline float contrast_loss_at(const ContrastLossArgs& c, int64_t i) {
  const float* a = c.a + i * c.a_stride;
  const float* b = c.b + i * c.b_stride;
  const float dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  if (!(dot > 0.f)) return 0.f;
  const float k = c.weight / static_cast<float>(c.n);
  if (c.grad_a)
    for (int j = 0; j < 3; ++j) c.grad_a[i * c.a_stride + j] += k * b[j];
  if (c.grad_b)
    for (int j = 0; j < 3; ++j) c.grad_b[i * c.b_stride + j] += k * a[j];
  return k * dot;
}

void contrast_loss_cpu(const ContrastLossArgs& args);
void contrast_loss_cuda(const ContrastLossArgs& args);

}  // namespace splatcast
