#include "mlp_block.h"

// Clones for AVX-512 and AVX2 (FMA) beside the portable baseline, picked at load time by the CPU that runs the
// addon (GCC ifunc dispatch; the build stays free of -march flags).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SC_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SC_CPU_CLONES
#endif

namespace splatcast {

namespace {
// The lanes of one block element: a single register with AVX-512, two with AVX2, four with SSE.
typedef float Lanes __attribute__((vector_size(kRowBlock * sizeof(float))));

// Outputs accumulated at once: eight independent chains keep the FMA pipes busy and, with AVX2, still leave
// registers for the input and the broadcast weight.
constexpr int kOutTile = 8;
static_assert(kMlpTile % kOutTile == 0, "an output tile must not straddle a staged tile");
}  // namespace

SC_CPU_CLONES
void mlp_block_layer(const float* layer, int n_in, int n_out, bool relu, const float* x, float* y) {
  const int quads = MlpLayout::padded_inputs(n_in) / 4, out_pad = MlpLayout::padded_outputs(n_out);
  const float* bias = layer + out_pad * quads * 4;
  for (int j0 = 0; j0 < n_out; j0 += kOutTile) {
    // Weight [j][i] sits at ((tile * quads + i / 4) * kMlpTile + j % kMlpTile) * 4 + i % 4 (mlp_stage).
    const float* w_tile = layer + (j0 / kMlpTile) * quads * 4 * kMlpTile + (j0 % kMlpTile) * 4;
    Lanes acc[kOutTile];
    for (int k = 0; k < kOutTile; ++k) acc[k] = Lanes{} + bias[j0 + k];
    for (int i = 0; i < n_in; ++i) {
      Lanes xi;
      __builtin_memcpy(&xi, x + static_cast<ptrdiff_t>(i) * kRowBlock, sizeof xi);
      const float* w = w_tile + (i / 4) * 4 * kMlpTile + i % 4;
      for (int k = 0; k < kOutTile; ++k) acc[k] += w[4 * k] * xi;
    }
    for (int k = 0; k < kOutTile && j0 + k < n_out; ++k) {
      const Lanes v = relu ? (acc[k] > 0.f ? acc[k] : Lanes{}) : acc[k];
      __builtin_memcpy(y + static_cast<ptrdiff_t>(j0 + k) * kRowBlock, &v, sizeof v);
    }
  }
}

}  // namespace splatcast
