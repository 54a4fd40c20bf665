#include <cub/block/block_reduce.cuh>

#include "../core/cuda_runtime.h"
#include "adam.h"

namespace splatcast {

namespace {
__global__ void adam_kernel(const __grid_constant__ AdamArgs a) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < a.n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    adam_update(a, i);
}

constexpr int kNormThreads = 256;

// Block sums in double, then one atomic add per block: the order of the blocks' adds varies, so the last bits of
// the norm may differ between runs; clipping only needs it to about 1e-12 relative.
__global__ void squared_norm_kernel(const __grid_constant__ SquaredNormArgs a) {
  using Reduce = cub::BlockReduce<double, kNormThreads>;
  __shared__ typename Reduce::TempStorage storage;
  double sum = 0.0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < a.n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    sum += static_cast<double>(a.x[i]) * a.x[i];
  double block = Reduce(storage).Sum(sum);
  if (threadIdx.x == 0) atomicAdd(a.out, block);
}

int grid_for(int64_t n, int threads) {
  int64_t blocks = (n + threads - 1) / threads;
  return static_cast<int>(blocks < 4096 ? blocks : 4096);
}
}  // namespace

void adam_step_cuda(const AdamArgs& a) {
  if (a.n == 0) return;
  adam_kernel<<<grid_for(a.n, 256), 256>>>(a);
  cuda::check_launch("adam_step");
}

void squared_norm_cuda(const SquaredNormArgs& a) {
  cuda::zero(a.out, sizeof(double));
  if (a.n == 0) return;
  squared_norm_kernel<<<grid_for(a.n, kNormThreads), kNormThreads>>>(a);
  cuda::check_launch("squared_norm");
}

}  // namespace splatcast
