#include <stdexcept>
#include <string>
#include <vector>

#include "../core/parallel.h"
#include "mlp_block.h"
#include "mlp_math.h"

namespace splatcast {

MlpLayout make_mlp_layout(const char* name, int input, const int* hidden, int hidden_count, int output, bool bias) {
  const std::string n(name);
  if (hidden_count < 0 || hidden_count + 1 > kMaxMlpLayers)
    throw std::invalid_argument(n + " must have 0.." + std::to_string(kMaxMlpLayers - 1) + " hidden layers, got " +
                                std::to_string(hidden_count));
  auto check = [&](const std::string& what, int w) {
    if (w < 1 || w > kMaxMlpWidth)
      throw std::invalid_argument(n + "." + what + " must be 1.." + std::to_string(kMaxMlpWidth) + ", got " +
                                  std::to_string(w));
  };
  MlpLayout L;
  L.layers = hidden_count + 1;
  L.bias = bias;
  check("input", input);
  L.width[0] = input;
  for (int i = 0; i < hidden_count; ++i) {
    check("hidden[" + std::to_string(i) + "]", hidden[i]);
    L.width[i + 1] = hidden[i];
  }
  check("output", output);
  L.width[L.layers] = output;
  if (L.staged_count() > kMaxMlpStaged)
    throw std::invalid_argument(n + " is too large: its padded weights take " + std::to_string(L.staged_count()) +
                                " floats, at most " + std::to_string(kMaxMlpStaged) + " fit in GPU shared memory");
  return L;
}

void mlp_forward_cpu(const MlpArgs& a) {
  const MlpLayout& L = a.layout;
  std::vector<float> staged(L.staged_count());
  for (int s = 0; s < a.seg.count; ++s) {
    if (a.seg.rows_of(s) == 0) continue;
    mlp_stage(L, a.weights.at[s], staged.data(), 0, 1);
    parallel_for_blocks(a.seg, s, kRowBlock, kRowBlocksPerChunk, [&](int32_t row, int lanes) {
      BlockVector x, scratch_a, scratch_b;
      load_block(a.in + static_cast<size_t>(row) * L.input(), L.input(), lanes, x.v);
      const float* y = mlp_block(L, staged.data(), x.v, scratch_a.v, scratch_b.v);
      store_block(y, L.output(), lanes, a.out + static_cast<size_t>(row) * L.output());
    });
  }
}

}  // namespace splatcast
