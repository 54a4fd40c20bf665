#include "../core/cuda_runtime.h"
#include "axpy.h"

namespace splatcast {

namespace {
__global__ void axpy_kernel(const __grid_constant__ AxpyArgs a) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < a.n) axpy_at(a, i);
}
}  // namespace

void axpy_cuda(const AxpyArgs& a) {
  if (a.n == 0) return;
  constexpr int kThreads = 256;
  axpy_kernel<<<static_cast<unsigned>((a.n + kThreads - 1) / kThreads), kThreads>>>(a);
  cuda::check_launch("axpy");
}

}  // namespace splatcast
