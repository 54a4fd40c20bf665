#include "../core/cuda_runtime.h"
#include "gaussian_deform_math.h"

namespace splatcast {

namespace {
constexpr int kBlock = 128;

// One thread per value, so consecutive threads write consecutive floats whatever the column count.
__global__ void gather_rows_kernel(const __grid_constant__ GatherRowsArgs a) {
  int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(a.seg.rows()) * a.columns) return;
  int32_t row = static_cast<int32_t>(i / a.columns);
  int s = a.seg.segment_of(row);
  a.out[i] = a.sources.at[s][i - static_cast<int64_t>(a.seg.offset[s]) * a.columns];
}

__global__ void aligner_apply_kernel(const __grid_constant__ AlignerApplyArgs a) {
  int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  aligner_row(a, a.seg.segment_of(row), row);
}

__global__ void deform_gaussians_kernel(const __grid_constant__ DeformGaussiansArgs a) {
  int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  deform_row(a, a.seg.segment_of(row), row);
}

// Backward kernels add into per-identity gradients with atomics: segments of one identity may share them.
struct AtomicAdd {
  __device__ void operator()(float* p, float v) const { atomicAdd(p, v); }
};

__global__ void gather_rows_backward_kernel(const __grid_constant__ GatherRowsBackwardArgs a) {
  int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(a.seg.rows()) * a.columns) return;
  int32_t row = static_cast<int32_t>(i / a.columns);
  int s = a.seg.segment_of(row);
  atomicAdd(a.grad_sources.at[s] + (i - static_cast<int64_t>(a.seg.offset[s]) * a.columns), a.grad_out[i]);
}

__global__ void aligner_apply_backward_kernel(const __grid_constant__ AlignerApplyBackwardArgs a) {
  int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  aligner_row_backward(a, a.seg.segment_of(row), row, AtomicAdd{});
}

__global__ void deform_gaussians_backward_kernel(const __grid_constant__ DeformGaussiansBackwardArgs a) {
  int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  deform_row_backward(a, a.seg.segment_of(row), row, AtomicAdd{});
}

unsigned blocks_for(int64_t n) { return static_cast<unsigned>((n + kBlock - 1) / kBlock); }
}  // namespace

void gather_rows_backward_cuda(const GatherRowsBackwardArgs& a) {
  int64_t n = static_cast<int64_t>(a.seg.rows()) * a.columns;
  if (n == 0) return;
  gather_rows_backward_kernel<<<blocks_for(n), kBlock>>>(a);
  cuda::check_launch("gather_rows_backward");
}

void aligner_apply_backward_cuda(const AlignerApplyBackwardArgs& a) {
  if (a.seg.rows() == 0) return;
  aligner_apply_backward_kernel<<<blocks_for(a.seg.rows()), kBlock>>>(a);
  cuda::check_launch("aligner_apply_backward");
}

void deform_gaussians_backward_cuda(const DeformGaussiansBackwardArgs& a) {
  if (a.seg.rows() == 0) return;
  deform_gaussians_backward_kernel<<<blocks_for(a.seg.rows()), kBlock>>>(a);
  cuda::check_launch("deform_gaussians_backward");
}

void gather_rows_cuda(const GatherRowsArgs& a) {
  int64_t n = static_cast<int64_t>(a.seg.rows()) * a.columns;
  if (n == 0) return;
  gather_rows_kernel<<<blocks_for(n), kBlock>>>(a);
  cuda::check_launch("gather_rows");
}

void aligner_apply_cuda(const AlignerApplyArgs& a) {
  if (a.seg.rows() == 0) return;
  aligner_apply_kernel<<<blocks_for(a.seg.rows()), kBlock>>>(a);
  cuda::check_launch("aligner_apply");
}

void deform_gaussians_cuda(const DeformGaussiansArgs& a) {
  if (a.seg.rows() == 0) return;
  deform_gaussians_kernel<<<blocks_for(a.seg.rows()), kBlock>>>(a);
  cuda::check_launch("deform_gaussians");
}

}  // namespace splatcast
