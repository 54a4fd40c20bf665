#include "../core/cuda_runtime.h"
#include "losses_math.h"

namespace splatcast {

namespace {
constexpr int kBlock = 128;

// Grid (x blocks, y, image) as the composite's: a block covers part of one image row.
template <void (*Pass)(const PhotometricLossArgs&, int, int, int)>
__global__ void loss_pass_kernel(const __grid_constant__ PhotometricLossArgs a) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  if (x < a.width) Pass(a, blockIdx.z, blockIdx.y, x);
}

// A pass whose pixels return a share of the loss: the block sums its shares (warp shuffles, then one value per
// warp in shared memory) and adds them to the image's loss.
template <float (*Pass)(const PhotometricLossArgs&, int, int, int)>
__global__ void loss_sum_kernel(const __grid_constant__ PhotometricLossArgs a) {
  __shared__ float warp_sums[kBlock / 32];
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  float v = x < a.width ? Pass(a, blockIdx.z, blockIdx.y, x) : 0.f;
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float sum = 0.f;
    for (int w = 0; w < kBlock / 32; ++w) sum += warp_sums[w];
    atomicAdd(a.loss + blockIdx.z, sum);
  }
}

dim3 grid_of(const PhotometricLossArgs& a) { return dim3((a.width + kBlock - 1) / kBlock, a.height, a.images); }
}  // namespace

void l1_loss_cuda(const PhotometricLossArgs& a) {
  cuda::zero(a.loss, sizeof(float) * a.images);
  if (a.images == 0 || a.height == 0 || a.width == 0) return;
  loss_sum_kernel<l1_pixel><<<grid_of(a), kBlock>>>(a);
  cuda::check_launch("l1_loss");
}

void dssim_loss_cuda(const PhotometricLossArgs& a) {
  cuda::zero(a.loss, sizeof(float) * a.images);
  if (a.images == 0 || a.height == 0 || a.width == 0) return;
  loss_pass_kernel<ssim_rows><<<grid_of(a), kBlock>>>(a);
  cuda::check_launch("dssim_loss (statistics, rows)");
  loss_sum_kernel<ssim_pixel><<<grid_of(a), kBlock>>>(a);
  cuda::check_launch("dssim_loss (statistics, columns)");
  if (!a.grad_image) return;
  loss_pass_kernel<ssim_grad_rows><<<grid_of(a), kBlock>>>(a);
  cuda::check_launch("dssim_loss (gradient, rows)");
  loss_pass_kernel<ssim_grad_pixel><<<grid_of(a), kBlock>>>(a);
  cuda::check_launch("dssim_loss (gradient, columns)");
}

}  // namespace splatcast
