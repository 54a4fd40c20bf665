#include <vector>

#include "grad_chunks.h"
#include "mlp_backward.h"
#include "mlp_grad_cpu.h"

namespace splatcast {

namespace {
constexpr int32_t kChunkRows = 256;  // rows per partial weight gradient (grad_chunks.h)
}  // namespace

void mlp_backward_cpu(const MlpBackwardArgs& a) {
  const MlpLayout& L = a.layout;
  const int in = L.input(), out = L.output();
  const std::vector<CpuGradNet> nets = prepare_grad_nets(L, a.weights, a.seg);
  const size_t params = static_cast<size_t>(L.param_count());
  reduce_segment_chunks(
      a.seg, kChunkRows, params,
      [&](int s, int32_t first, int32_t rows, float* partial) {
        NetTile tile(L, {});
        std::vector<float> scratch(2 * kCpuTileRows * kMaxMlpWidth);
        for (int32_t row = first; row < first + rows; row += kCpuTileRows) {
          const int n = first + rows - row < kCpuTileRows ? first + rows - row : kCpuTileRows;
          // The forward's input and the upstream gradient are read in place.
          tile.act[0] = {const_cast<float*>(a.in) + static_cast<size_t>(row) * in, in};
          nets[s].forward(n, tile, L.layers - 1);  // hidden layers only: the output's value is not needed
          const TileView delta{const_cast<float*>(a.grad_out) + static_cast<size_t>(row) * out, out};
          const TileView dx = a.grad_in ? TileView{a.grad_in + static_cast<size_t>(row) * in, in} : TileView{};
          nets[s].backward(n, tile, delta, partial, dx, false, scratch.data());
        }
      },
      [&](int s, const float* sum) { add_into(a.grad_weights.at[s], sum, params); });
}

}  // namespace splatcast
