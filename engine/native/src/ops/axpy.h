// y += alpha * x over flat f32 vectors: sums of deformations (the universal and the personalised motion of
// pre-training, InsTaG eq. 5) and other elementwise accumulations of the trainer.
#pragma once
#include <cstdint>

#include "../core/common.h"

namespace splatcast {

struct AxpyArgs {
  int64_t n;
  float alpha;
  const float* x;  // [n]
  float* y;        // [n], added to
};

SC_HD inline void axpy_at(const AxpyArgs& a, int64_t i) { a.y[i] += a.alpha * a.x[i]; }

void axpy_cpu(const AxpyArgs& args);
void axpy_cuda(const AxpyArgs& args);

}  // namespace splatcast
