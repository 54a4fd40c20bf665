#include "../core/cuda_runtime.h"
#include "densify_stats.h"

namespace splatcast {

namespace {
__global__ void densify_stats_kernel(const __grid_constant__ DensifyStatsArgs a) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < a.n) densify_stats_at(a, i);
}
}  // namespace

void densify_stats_cuda(const DensifyStatsArgs& a) {
  if (a.n == 0) return;
  constexpr int kThreads = 256;
  densify_stats_kernel<<<static_cast<unsigned>((a.n + kThreads - 1) / kThreads), kThreads>>>(a);
  cuda::check_launch("densify_stats");
}

}  // namespace splatcast
