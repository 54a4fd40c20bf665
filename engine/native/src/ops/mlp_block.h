// Row-blocked MLP evaluation for the CPU twins (CPU only; the CUDA kernels use mlp_row). A block holds kRowBlock
// rows with one row per SIMD lane, so every staged weight is read once per block and broadcast to all lanes.
// mlp_block computes the same function as mlp_row on the same staged weights, and every output sums in the same
// order (bias, then inputs in increasing order); only multiply-adds may round once instead of twice (FMA where the
// CPU has it, as on the GPU). A row's result does not depend on its lane or on the other rows of its block.
//
// Block layout: element i of lane r at v[i * kRowBlock + r].
#pragma once
#include <cstddef>
#include <utility>

#include "mlp.h"

namespace splatcast {

constexpr int kRowBlock = 16;
constexpr int64_t kRowBlocksPerChunk = 8;  // thread-pool grain (parallel_for_blocks): 128 rows

// Scratch of one block: up to kMaxMlpWidth elements per lane.
struct alignas(64) BlockVector {
  float v[kMaxMlpWidth * kRowBlock];
  float* element(int i) { return v + static_cast<ptrdiff_t>(i) * kRowBlock; }
};

// One layer for a block: y[j] = bias[j] + sum_i w[j][i] x[i], then ReLU when `relu`. `layer` points at the layer's
// staged weights (mlp_stage layout); x has n_in elements, y gets n_out.
void mlp_block_layer(const float* layer, int n_in, int n_out, bool relu, const float* x, float* y);

// The network over a block: layers alternate between scratch blocks `a` and `b` (neither may overlap `in`), as in
// mlp_row. Returns the block holding the output.
inline const float* mlp_block(const MlpLayout& L, const float* staged, const float* in, float* a, float* b) {
  const float* src = in;
  float* dst = a;
  float* spare = b;
  for (int l = 0; l < L.layers; ++l) {
    mlp_block_layer(staged, L.width[l], L.width[l + 1], l + 1 < L.layers, src, dst);
    staged += L.staged_layer_count(l);
    src = dst;
    std::swap(dst, spare);
  }
  return src;
}

// fmaxf(v, 0) up to the sign of a zero result, without a libm call per element.
inline float relu(float v) { return v > 0.f ? v : 0.f; }

// Copies `lanes` rows of n elements (row-major, consecutive) into block elements [0, n); lanes past `lanes` are
// zeroed so they stay finite.
inline void load_block(const float* rows, int n, int lanes, float* block) {
  for (int i = 0; i < n; ++i) {
    float* e = block + static_cast<ptrdiff_t>(i) * kRowBlock;
    for (int r = 0; r < kRowBlock; ++r) e[r] = r < lanes ? rows[static_cast<ptrdiff_t>(r) * n + i] : 0.f;
  }
}

// Copies block elements [0, n) of the first `lanes` lanes out to consecutive rows of n elements.
inline void store_block(const float* block, int n, int lanes, float* rows) {
  for (int r = 0; r < lanes; ++r)
    for (int i = 0; i < n; ++i) rows[static_cast<ptrdiff_t>(r) * n + i] = block[i * kRowBlock + r];
}

}  // namespace splatcast
