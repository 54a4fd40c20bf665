#include "../core/cuda_runtime.h"
#include "mlp_launch.cuh"

namespace splatcast {

namespace {
// Thread per row. The input row is read straight from global memory (each thread walks its own contiguous row);
// the two scratch vectors are shared-memory columns behind the staged weights.
__global__ void __launch_bounds__(kMlpMaxThreads)
    mlp_kernel(const __grid_constant__ MlpArgs a, const __grid_constant__ Segments blocks, int32_t block_rows) {
  extern __shared__ float4 shared4[];
  const MlpBlockRows work = mlp_block_rows(a.seg, blocks, block_rows);
  float* cursor = reinterpret_cast<float*>(shared4);
  const float* weights = mlp_stage_block(a.layout, a.weights.at[work.segment], cursor);
  __syncthreads();
  const int n = blockDim.x, width = a.layout.scratch_width();
  RowVector<float> scratch_a{cursor + threadIdx.x, n}, scratch_b{cursor + width * n + threadIdx.x, n};
  for (int32_t row = work.begin + threadIdx.x; row < work.end; row += n) {
    RowVector<const float> in{a.in + static_cast<size_t>(row) * a.layout.input(), 1};
    RowVector<float> y = mlp_row(a.layout, weights, in, scratch_a, scratch_b);
    float* out = a.out + static_cast<size_t>(row) * a.layout.output();
    for (int j = 0; j < a.layout.output(); ++j) out[j] = y[j];
  }
}
}  // namespace

void mlp_forward_cuda(const MlpArgs& a) {
  if (a.seg.rows() == 0) return;
  static const MlpDevice device = mlp_prepare(mlp_kernel);
  const MlpLaunch launch = mlp_plan(mlp_kernel, device, a.seg, a.layout.staged_count(),
                                    2 * a.layout.scratch_width(), "mlp_forward");
  mlp_kernel<<<launch.blocks.rows(), launch.threads, launch.shared_bytes>>>(a, launch.blocks, launch.block_rows);
  cuda::check_launch("mlp_forward");
}

}  // namespace splatcast
