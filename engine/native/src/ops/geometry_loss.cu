#include "../core/cuda_runtime.h"
#include "geometry_loss.h"

namespace splatcast {

namespace {
constexpr int kBlock = 128;

// Statistics: each thread one pixel, the block's sums through shared memory, then one atomic per sum.
__global__ void geometry_stats_kernel(const __grid_constant__ GeometryLossArgs g) {
  __shared__ double block[kGeometrySums];
  if (threadIdx.x < kGeometrySums) block[threadIdx.x] = 0.0;
  __syncthreads();
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
  double s[kGeometrySums] = {};
  if (x < g.width) geometry_stats_at(g, x, y, s);
  for (int k = 0; k < kGeometrySums; ++k) {
    double v = s[k];
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (threadIdx.x % 32 == 0 && v != 0.0) atomicAdd(block + k, v);
  }
  __syncthreads();
  if (threadIdx.x < kGeometrySums && block[threadIdx.x] != 0.0) atomicAdd(g.sums + threadIdx.x, block[threadIdx.x]);
}

// The losses from the sums (one thread), so that nothing waits for the host.
__global__ void geometry_loss_kernel(const __grid_constant__ GeometryLossArgs g) {
  g.loss[0] = geo_depth_term(g).loss;
  const double m = g.sums[kGM];
  g.loss[1] = m > 0 ? static_cast<float>(g.weight_normal * g.sums[kGL] / m) : 0.f;
}

__global__ void geometry_grad_kernel(const __grid_constant__ GeometryLossArgs g) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
  if (x >= g.width) return;
  const GeoDepthTerm dt = geo_depth_term(g);
  const double m = g.sums[kGM];
  geometry_grad_at(g, dt, m > 0 ? static_cast<float>(g.weight_normal / m) : 0.f, x, y);
}
}  // namespace

void geometry_loss_cuda(const GeometryLossArgs& g) {
  cuda::zero(g.sums, sizeof(double) * kGeometrySums);
  cuda::zero(g.loss, sizeof(float) * 2);
  if (g.height == 0 || g.width == 0) return;
  const dim3 grid((g.width + kBlock - 1) / kBlock, g.height);
  geometry_stats_kernel<<<grid, kBlock>>>(g);
  cuda::check_launch("geometry_loss (statistics)");
  geometry_loss_kernel<<<1, 1>>>(g);
  cuda::check_launch("geometry_loss (loss)");
  if (!g.grad_depth) return;
  geometry_grad_kernel<<<grid, kBlock>>>(g);
  cuda::check_launch("geometry_loss (gradient)");
}

}  // namespace splatcast
