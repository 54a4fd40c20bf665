// Plain MLP, InsTaG's motion-field network: linear layers, ReLU between them, linear output.
//
// Weight layout of one network (one f32 tensor per identity, shared by every op that evaluates MLPs):
//   for each layer l in order (input -> hidden[0] -> ... -> output):
//     weight [out_l][in_l], row-major (PyTorch nn.Linear's .weight)
//     bias   [out_l]                  only when the network has biases
//
// Before evaluation the weights are staged into a padded, tiled copy. Per layer: inputs padded to a multiple of 4,
// outputs to a multiple of kMlpTile, zeros in the padding; weights ordered [output tile][input quad][16 outputs]
// [4 inputs], so the 16 weight vectors one input quad meets in a tile are 64 consecutive floats at fixed offsets;
// then the bias [padded outputs] (zeros where the network has none). A row evaluation thus reads aligned 4-wide
// vectors with no bounds checks, bias branches or per-output address arithmetic. The CUDA kernels stage into shared
// memory once per block (a block covers rows of one segment only), the CPU twin once per segment.
#pragma once
#include "../core/segments.h"

namespace splatcast {

constexpr int kMaxMlpWidth = 128;  // widest input, hidden or output layer
constexpr int kMaxMlpLayers = 8;   // linear layers (hidden widths + 1)
constexpr int kMlpTile = 16;       // outputs accumulated in registers at once
// Staged floats of one network: 160 KB, so a lone MLP plus 64 rows of scratch fits an H100's block (227 KB).
constexpr int kMaxMlpStaged = 40960;

struct MlpLayout {
  int layers = 0;                    // linear layers
  int width[kMaxMlpLayers + 1] = {};  // width[0] = input, width[layers] = output
  bool bias = false;

  SC_HD int input() const { return width[0]; }
  SC_HD int output() const { return width[layers]; }
  SC_HD static int padded_inputs(int w) { return (w + 3) & ~3; }
  SC_HD static int padded_outputs(int w) { return (w + kMlpTile - 1) / kMlpTile * kMlpTile; }
  // Floats of layer l in the staged copy: padded weights, then the padded bias.
  SC_HD int staged_layer_count(int l) const {
    return padded_outputs(width[l + 1]) * (padded_inputs(width[l]) + 1);
  }
  SC_HD int staged_count() const {
    int n = 0;
    for (int l = 0; l < layers; ++l) n += staged_layer_count(l);
    return n;
  }
  // Elements a scratch vector needs: the widest layer output.
  SC_HD int scratch_width() const {
    int w = 0;
    for (int l = 1; l <= layers; ++l) w = width[l] > w ? width[l] : w;
    return w;
  }
  int64_t param_count() const {
    int64_t n = 0;
    for (int l = 0; l < layers; ++l) n += static_cast<int64_t>(width[l + 1]) * (width[l] + (bias ? 1 : 0));
    return n;
  }
};

// Validates the shape (throws std::invalid_argument naming `name`, e.g. "decoder.hidden[1] must be 1..128, got 0").
// Also bounds the staged size by kMaxMlpStaged.
MlpLayout make_mlp_layout(const char* name, int input, const int* hidden, int hidden_count, int output, bool bias);

struct MlpArgs {
  Segments seg;
  MlpLayout layout;
  const float* in;                    // [rows, input], concatenated over segments
  PerSegment<const float*> weights;   // per segment: [param_count] (that segment's identity)
  float* out;                         // [rows, output]
};

void mlp_forward_cpu(const MlpArgs& args);
void mlp_forward_cuda(const MlpArgs& args);

}  // namespace splatcast
