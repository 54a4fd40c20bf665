// Networks of the mlp.h layout over row-major tiles, for the CPU backward passes (the CUDA kernels use
// mlp_grad.cuh). Each backward recomputes its forward activations one tile of rows at a time instead of saving them
// in the forward pass, then backpropagates through the tile. Every inner loop runs over contiguous memory (outputs
// in the forward, inputs in both gradients), so the compiler vectorises it at each SIMD clone's width.
#pragma once
#include <cstddef>
#include <vector>

#include "mlp.h"

namespace splatcast {

constexpr int kCpuTileRows = 32;

// Rows stored row-major with a row stride: a tile, or some columns of a wider one.
struct TileView {
  float* p = nullptr;
  int stride = 0;
  float* row(int r) const { return p + static_cast<ptrdiff_t>(r) * stride; }
  TileView columns(int first) const { return {p + first, stride}; }
};

// Activations of one network over a tile: act[0] is the input (a view the caller fills), act[l] the output of
// layer l - 1 after its ReLU (the last layer's output is linear).
struct NetTile {
  std::vector<float> storage;
  TileView act[kMaxMlpLayers + 1];
  NetTile(const MlpLayout& L, TileView input);
};

// One identity's weights of one network, prepared for the backward: the raw layout, plus each layer's transpose
// ([in][out]) for the forward recompute.
class CpuGradNet {
 public:
  CpuGradNet(const MlpLayout& layout, const float* raw);
  const MlpLayout& layout() const { return L_; }
  // Computes act[1 .. layers] of the tile from act[0] (layers <= L.layers: a caller that needs no network output
  // skips the last layer).
  void forward(int rows, const NetTile& tile, int layers) const;
  // Backpropagates `delta` (the gradient at the network output, rows x output) through the tile:
  // accumulates the weight gradient into `grad` (raw layout) and, when dx.p is set, writes the input gradient to
  // dx (or adds it there when `accumulate_dx`). `scratch` holds 2 * kCpuTileRows * kMaxMlpWidth floats.
  void backward(int rows, const NetTile& tile, TileView delta, float* grad, TileView dx, bool accumulate_dx,
                float* scratch) const;

 private:
  MlpLayout L_;
  const float* raw_;
  std::vector<float> transposed_;
  int offset_[kMaxMlpLayers] = {};             // layer l's weights in the raw layout (its bias follows them)
  int transposed_offset_[kMaxMlpLayers] = {};  // layer l's [in][out] copy in transposed_
};

// The prepared nets of every segment of a batch, built before the parallel chunks read them.
std::vector<CpuGradNet> prepare_grad_nets(const MlpLayout& L, const PerSegment<const float*>& weights,
                                          const Segments& seg);

}  // namespace splatcast
