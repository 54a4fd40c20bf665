// Adam with decoupled weight decay (AdamW) over one flat parameter buffer, and the squared L2 norm used for
// gradient clipping. The trainer keeps one buffer per parameter group, so one launch updates a whole group.
#pragma once
#include <cmath>

#include "../core/common.h"

namespace splatcast {

struct AdamArgs {
  int64_t n = 0;
  float* params = nullptr;
  const float* grads = nullptr;
  float* m = nullptr;  // first moment, same size as params
  float* v = nullptr;  // second moment
  float lr = 0.f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-15f;
  float weight_decay = 0.f;      // decoupled: p -= lr * weight_decay * p
  float bias_correction1 = 1.f;  // 1 - beta1^t, computed once per step on the host
  float bias_correction2 = 1.f;  // 1 - beta2^t
  float grad_scale = 1.f;        // applied to the gradient first (clipping, loss scaling)
};

SC_HD inline void adam_update(const AdamArgs& a, int64_t i) {
  const float g = a.grads[i] * a.grad_scale;
  const float m = a.beta1 * a.m[i] + (1.f - a.beta1) * g;
  const float v = a.beta2 * a.v[i] + (1.f - a.beta2) * g * g;
  a.m[i] = m;
  a.v[i] = v;
  const float m_hat = m / a.bias_correction1;
  const float v_hat = v / a.bias_correction2;
  a.params[i] -= a.lr * (m_hat / (sqrtf(v_hat) + a.eps) + a.weight_decay * a.params[i]);
}

void adam_step_cpu(const AdamArgs& args);
void adam_step_cuda(const AdamArgs& args);

struct SquaredNormArgs {
  int64_t n = 0;
  const float* x = nullptr;
  double* out = nullptr;  // one double, written (CPU: host memory; CUDA: device memory)
};

void squared_norm_cpu(const SquaredNormArgs& args);
void squared_norm_cuda(const SquaredNormArgs& args);

}  // namespace splatcast
