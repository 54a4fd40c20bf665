#include "mlp_block.h"

#include <cstring>

#include "../core/simd.h"

namespace splatcast {

namespace {

// One layer with V-wide vectors (a block element is kRowBlock / lanes of V of them). kOutTile outputs accumulate
// at once, as many independent chains as the registers hold beside the input and the broadcast weight.
template <typename V, int kOutTile>
SC_VECTOR_INLINE void block_layer(const float* layer, int n_in, int n_out, bool relu, const float* x, float* y) {
  static_assert(kMlpTile % kOutTile == 0, "an output tile must not straddle a staged tile");
  constexpr int kLanes = sizeof(V) / sizeof(float), kParts = kRowBlock / kLanes;
  const int quads = MlpLayout::padded_inputs(n_in) / 4, out_pad = MlpLayout::padded_outputs(n_out);
  const float* bias = layer + out_pad * quads * 4;
  for (int j0 = 0; j0 < n_out; j0 += kOutTile) {
    // Weight [j][i] sits at ((tile * quads + i / 4) * kMlpTile + j % kMlpTile) * 4 + i % 4 (mlp_stage).
    const float* w_tile = layer + (j0 / kMlpTile) * quads * 4 * kMlpTile + (j0 % kMlpTile) * 4;
    V acc[kOutTile][kParts];
    for (int k = 0; k < kOutTile; ++k)
      for (int p = 0; p < kParts; ++p) acc[k][p] = V{} + bias[j0 + k];
    for (int i = 0; i < n_in; ++i) {
      const float* x_element = x + static_cast<ptrdiff_t>(i) * kRowBlock;
      V xi[kParts];  // one load per vector: a single wider copy would stall on its way through the stack
      for (int p = 0; p < kParts; ++p) std::memcpy(&xi[p], x_element + p * kLanes, sizeof(V));
      const float* w = w_tile + (i / 4) * 4 * kMlpTile + i % 4;
      for (int k = 0; k < kOutTile; ++k)
        for (int p = 0; p < kParts; ++p) acc[k][p] += w[4 * k] * xi[p];
    }
    for (int k = 0; k < kOutTile && j0 + k < n_out; ++k)
      for (int p = 0; p < kParts; ++p) {
        const V v = relu ? (acc[k][p] > 0.f ? acc[k][p] : V{}) : acc[k][p];
        std::memcpy(y + static_cast<ptrdiff_t>(j0 + k) * kRowBlock + p * kLanes, &v, sizeof v);
      }
  }
}

#if SC_CPU_DISPATCH
SC_TARGET_AVX512 void block_layer_avx512(const float* layer, int n_in, int n_out, bool relu, const float* x,
                                         float* y) {
  block_layer<F32x16, 16>(layer, n_in, n_out, relu, x, y);  // 16 of 32 registers
}

SC_TARGET_AVX2 void block_layer_avx2(const float* layer, int n_in, int n_out, bool relu, const float* x, float* y) {
  block_layer<F32x8, 4>(layer, n_in, n_out, relu, x, y);  // 8 of 16 registers
}
#endif

void block_layer_baseline(const float* layer, int n_in, int n_out, bool relu, const float* x, float* y) {
  block_layer<F32x4, 2>(layer, n_in, n_out, relu, x, y);  // 8 of 16 registers
}

}  // namespace

void mlp_block_layer(const float* layer, int n_in, int n_out, bool relu, const float* x, float* y) {
#if SC_CPU_DISPATCH
  switch (vector_isa()) {
    case VectorIsa::Avx512:
      return block_layer_avx512(layer, n_in, n_out, relu, x, y);
    case VectorIsa::Avx2:
      return block_layer_avx2(layer, n_in, n_out, relu, x, y);
    case VectorIsa::Baseline:
      break;
  }
#endif
  block_layer_baseline(layer, n_in, n_out, relu, x, y);
}

}  // namespace splatcast
