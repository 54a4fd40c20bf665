#include "../core/cuda_runtime.h"
#include "mlp_backward.h"
#include "mlp_grad.cuh"

namespace splatcast {

namespace {
// Shared memory: the block's weight-gradient partial, the network's activation tiles (the input among them), the
// upstream gradient tile, two hidden-gradient tiles and the input-gradient tile.

__global__ void __launch_bounds__(kGradThreads)
    mlp_backward_kernel(const __grid_constant__ MlpBackwardArgs a, const __grid_constant__ Segments blocks,
                        int32_t block_rows, int tile_rows) {
  extern __shared__ float4 shared4[];
  const MlpLayout& L = a.layout;
  const int in = L.input(), out = L.output(), params = NetOffsets(L).params;
  const MlpBlockRows work = mlp_block_rows(a.seg, blocks, block_rows);
  const float* weights = a.weights.at[work.segment];
  float* grad = reinterpret_cast<float*>(shared4);
  float* cursor = grad + params;
  const SharedTile input{cursor, tile_stride(in)};
  cursor += tile_rows * input.stride;
  const NetTiles t = carve_net_tiles(L, input, tile_rows, cursor);
  const int spare_stride = tile_stride(widest_layer(L));
  const SharedTile upstream{cursor, tile_stride(out)};
  cursor += tile_rows * upstream.stride;
  const SharedTile spare[2] = {{cursor, spare_stride}, {cursor + tile_rows * spare_stride, spare_stride}};
  cursor += 2 * tile_rows * spare_stride;
  const SharedTile dx = a.grad_in ? SharedTile{cursor, tile_stride(in)} : SharedTile{};
  zero_shared(grad, params);
  for (int32_t row0 = work.begin; row0 < work.end; row0 += tile_rows) {
    const int rows = work.end - row0 < tile_rows ? work.end - row0 : tile_rows;
    load_tile(a.in, in, row0, rows, input);
    load_tile(a.grad_out, out, row0, rows, upstream);
    __syncthreads();
    tile_net_forward(L, weights, t, L.layers - 1, rows, tile_rows);  // the output's value is not needed
    tile_net_backward(L, weights, t, upstream, spare, grad, dx, false, rows, tile_rows);
    if (dx.p) {
      store_tile(dx, in, row0, rows, a.grad_in);
      __syncthreads();
    }
  }
  __syncthreads();
  flush_grad(grad, params, a.grad_weights.at[work.segment]);
}
}  // namespace

void mlp_backward_cuda(const MlpBackwardArgs& a) {
  if (a.seg.rows() == 0) return;
  static const MlpDevice device = mlp_prepare(mlp_backward_kernel);
  const MlpLayout& L = a.layout;
  const int row_floats = tile_stride(L.input()) * 2 + net_tile_floats(L) + tile_stride(L.output()) +
                         2 * tile_stride(widest_layer(L));
  const GradLaunch launch = grad_plan(mlp_backward_kernel, device, a.seg, static_cast<int>(L.param_count()),
                                      row_floats, "mlp_backward");
  mlp_backward_kernel<<<launch.blocks.rows(), kGradThreads, launch.shared_bytes>>>(a, launch.blocks,
                                                                                   launch.block_rows,
                                                                                   launch.tile_rows);
  cuda::check_launch("mlp_backward");
}

}  // namespace splatcast
