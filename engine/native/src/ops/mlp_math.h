// Per-row MLP evaluation shared verbatim by the CPU twins and the CUDA kernels of every op that runs MLPs.
#pragma once
#include <cmath>

#include "mlp.h"

#if defined(__CUDACC__)
#define SC_UNROLL _Pragma("unroll")
#else
#define SC_UNROLL
#endif

namespace splatcast {

// One row's vector: element i lives at p[i * stride]. Stride 1 on the CPU; on the GPU a column of shared memory
// with stride = block size, so a warp touching element i of its 32 rows hits 32 consecutive banks.
template <typename T>
struct RowVector {
  T* p;
  int stride;
  SC_HD RowVector(T* data, int step) : p(data), stride(step) {}
  // A writable vector passes wherever a read-only one is expected.
  template <typename U>
  SC_HD RowVector(const RowVector<U>& v) : p(v.p), stride(v.stride) {}
  SC_HD T& operator[](int i) const { return p[static_cast<ptrdiff_t>(i) * stride]; }
};

// Writes the staged (padded, tiled) copy of one network's weights; thread `first` of `step` writes its share.
// Reads are issued kStageBatch at a time, so a block's staging is not a chain of L2 round trips.
constexpr int kStageBatch = 8;

SC_HD inline void mlp_stage(const MlpLayout& L, const float* raw, float* staged, int first, int step) {
  for (int l = 0; l < L.layers; ++l) {
    const int in = L.width[l], out = L.width[l + 1];
    const int quads = MlpLayout::padded_inputs(in) / 4, out_pad = MlpLayout::padded_outputs(out);
    const int n = out_pad * quads * 4;
    for (int p0 = first; p0 < n; p0 += kStageBatch * step) {
      float v[kStageBatch];
      SC_UNROLL
      for (int b = 0; b < kStageBatch; ++b) {
        // Position p = ((tile * quads + quad) * kMlpTile + k) * 4 + q holds weight [tile * 16 + k][quad * 4 + q].
        const int p = p0 + b * step, tile_quad = p / (4 * kMlpTile), tile = tile_quad / quads;
        const int j = tile * kMlpTile + p / 4 % kMlpTile, i = (tile_quad - tile * quads) * 4 + p % 4;
        v[b] = p < n && j < out && i < in ? raw[j * in + i] : 0.f;
      }
      SC_UNROLL
      for (int b = 0; b < kStageBatch; ++b)
        if (p0 + b * step < n) staged[p0 + b * step] = v[b];
    }
    staged += n;
    raw += out * in;
    for (int j = first; j < out_pad; j += step) staged[j] = L.bias && j < out ? raw[j] : 0.f;
    staged += out_pad;
    if (L.bias) raw += out;
  }
}

SC_HD inline void load4(const float* p, float (&v)[4]) {
#if defined(__CUDA_ARCH__)
  const float4 q = *reinterpret_cast<const float4*>(p);  // staged quads are 16-byte aligned: one vector load
  v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
#else
  for (int q = 0; q < 4; ++q) v[q] = p[q];
#endif
}

// Evaluates one row through the network whose staged weights are `staged`. `a` and `b` are scratch vectors of at
// least scratch_width() elements that must not overlap `in`; hidden layers alternate between them and the output
// lands in whichever the last layer did not read. Returns that vector.
SC_HD inline RowVector<float> mlp_row(const MlpLayout& L, const float* staged, RowVector<const float> in,
                                      RowVector<float> a, RowVector<float> b) {
  RowVector<const float> src = in;
  RowVector<float> dst = a, spare = b;
  for (int l = 0; l < L.layers; ++l) {
    const int n_in = L.width[l], n_out = L.width[l + 1];
    const int quads = MlpLayout::padded_inputs(n_in) / 4, out_pad = MlpLayout::padded_outputs(n_out);
    const float* bias = staged + out_pad * quads * 4;
    const bool relu = l + 1 < L.layers;
    for (int j0 = 0; j0 < n_out; j0 += kMlpTile) {
      // A tile of outputs stays in registers while the inputs stream past four at a time; the 16 independent
      // accumulators are updated in turn so consecutive multiply-adds never wait on each other.
      float acc[kMlpTile];
      SC_UNROLL
      for (int k = 0; k < kMlpTile; ++k) acc[k] = bias[j0 + k];
      const float* w_quad = staged + j0 * quads * 4;
      for (int i = 0; i < n_in; i += 4, w_quad += 4 * kMlpTile) {
        float x[4], w[kMlpTile][4];
        SC_UNROLL
        for (int q = 0; q < 4; ++q) x[q] = i + q < n_in ? src[i + q] : 0.f;
        SC_UNROLL
        for (int k = 0; k < kMlpTile; ++k) load4(w_quad + 4 * k, w[k]);
        SC_UNROLL
        for (int q = 0; q < 4; ++q) {
          SC_UNROLL
          for (int k = 0; k < kMlpTile; ++k) acc[k] += w[k][q] * x[q];
        }
      }
      SC_UNROLL
      for (int k = 0; k < kMlpTile; ++k)
        if (j0 + k < n_out) dst[j0 + k] = relu ? fmaxf(acc[k], 0.f) : acc[k];
    }
    staged += out_pad * (quads * 4 + 1);
    src = dst;
    RowVector<float> next = spare;
    spare = dst;
    dst = next;
  }
  return spare;
}

}  // namespace splatcast
