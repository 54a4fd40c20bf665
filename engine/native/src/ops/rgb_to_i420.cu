#include "../core/cuda_runtime.h"
#include "rgb_to_i420_math.h"

namespace splatcast {

namespace {
constexpr int kBlock = 128;

// Grid (block-column chunks, block row, image): one thread per 2x2 block, neighbouring threads on neighbouring
// blocks of one row pair, so reads and the Y/U/V writes of a warp are contiguous.
__global__ void rgb_to_i420_kernel(const __grid_constant__ RgbToI420Args a) {
  int bx = blockIdx.x * blockDim.x + threadIdx.x;
  if (bx < a.width / 2) i420_block(a, blockIdx.z, blockIdx.y, bx);
}
}  // namespace

void rgb_to_i420_cuda(const RgbToI420Args& a) {
  if (a.images == 0 || a.height == 0 || a.width == 0) return;
  const dim3 grid((a.width / 2 + kBlock - 1) / kBlock, a.height / 2, a.images);
  rgb_to_i420_kernel<<<grid, kBlock>>>(a);
  cuda::check_launch("rgb_to_i420");
}

}  // namespace splatcast
