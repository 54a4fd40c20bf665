#include "../core/cuda_runtime.h"
#include "composite_math.h"

namespace splatcast {

namespace {
constexpr int kBlock = 128;

// Grid (x blocks, y, image): neighbouring threads handle neighbouring pixels of one row, so the window reads of a
// warp overlap in L1 and every global write is coalesced.
__global__ void dilate_rows_kernel(const __grid_constant__ CompositeArgs a) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  if (x < a.width) dilate_row_pixel(a, blockIdx.z, blockIdx.y, x);
}

__global__ void composite_kernel(const __grid_constant__ CompositeArgs a) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  if (x < a.width) composite_pixel(a, blockIdx.z, blockIdx.y, x);
}

template <void (*PixelOp)(const CompositeBackwardArgs&, int, int, int)>
__global__ void composite_backward_kernel(const __grid_constant__ CompositeBackwardArgs a) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  if (x < a.width) PixelOp(a, blockIdx.z, blockIdx.y, x);
}
}  // namespace

void composite_backward_cuda(const CompositeBackwardArgs& a) {
  if (a.images == 0 || a.height == 0 || a.width == 0) return;
  const dim3 grid((a.width + kBlock - 1) / kBlock, a.height, a.images);
  composite_backward_kernel<composite_backward_row_max><<<grid, kBlock>>>(a);
  cuda::check_launch("composite_backward (row maxima)");
  composite_backward_kernel<composite_backward_blend><<<grid, kBlock>>>(a);
  cuda::check_launch("composite_backward (blend)");
  composite_backward_kernel<composite_backward_columns><<<grid, kBlock>>>(a);
  cuda::check_launch("composite_backward (column maxima)");
  composite_backward_kernel<composite_backward_rows><<<grid, kBlock>>>(a);
  cuda::check_launch("composite_backward (row maxima, back)");
}

void composite_cuda(const CompositeArgs& a) {
  if (a.images == 0 || a.height == 0 || a.width == 0) return;
  const dim3 grid((a.width + kBlock - 1) / kBlock, a.height, a.images);
  dilate_rows_kernel<<<grid, kBlock>>>(a);
  cuda::check_launch("composite (mouth alpha row dilation)");
  composite_kernel<<<grid, kBlock>>>(a);
  cuda::check_launch("composite");
}

}  // namespace splatcast
