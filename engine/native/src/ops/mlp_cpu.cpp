#include <stdexcept>
#include <string>
#include <vector>

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
  float scratch_a[kMaxMlpWidth], scratch_b[kMaxMlpWidth];
  for (int s = 0; s < a.seg.count; ++s) {
    if (a.seg.rows_of(s) == 0) continue;
    mlp_stage(L, a.weights.at[s], staged.data(), 0, 1);
    for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) {
      RowVector<const float> in{a.in + static_cast<size_t>(row) * L.input(), 1};
      RowVector<float> y = mlp_row(L, staged.data(), in, {scratch_a, 1}, {scratch_b, 1});
      float* out = a.out + static_cast<size_t>(row) * L.output();
      for (int j = 0; j < L.output(); ++j) out[j] = y[j];
    }
  }
}

}  // namespace splatcast
