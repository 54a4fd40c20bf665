#include "../core/cuda_runtime.h"
#include "contrast_loss.h"

namespace splatcast {

namespace {
constexpr int kBlock = 256;

__global__ void contrast_loss_kernel(const __grid_constant__ ContrastLossArgs c) {
  __shared__ float warp_sums[kBlock / 32];
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  float v = i < c.n ? contrast_loss_at(c, i) : 0.f;
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float sum = 0.f;
    for (int w = 0; w < kBlock / 32; ++w) sum += warp_sums[w];
    atomicAdd(c.loss, sum);
  }
}
}  // namespace

void contrast_loss_cuda(const ContrastLossArgs& c) {
  cuda::zero(c.loss, sizeof(float));
  if (c.n == 0) return;
  contrast_loss_kernel<<<static_cast<unsigned>((c.n + kBlock - 1) / kBlock), kBlock>>>(c);
  cuda::check_launch("contrast_loss");
}

}  // namespace splatcast
