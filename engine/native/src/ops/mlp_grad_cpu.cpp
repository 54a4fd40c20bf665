#include "mlp_grad_cpu.h"

#include "../core/simd.h"

namespace splatcast {

namespace {
// y[r][j] = b[j] + sum_i x[r][i] wt[i][j] (inputs in increasing order, as the forward sums them); ReLU when relu.
SC_CPU_CLONES
void layer_forward(const float* wt, const float* b, int n_in, int n_out, bool relu, int rows, TileView x,
                   TileView y) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x.row(r);
    float* yr = y.row(r);
    for (int j = 0; j < n_out; ++j) yr[j] = b ? b[j] : 0.f;
    for (int i = 0; i < n_in; ++i) {
      const float xi = xr[i];
      const float* w = wt + static_cast<ptrdiff_t>(i) * n_out;
      for (int j = 0; j < n_out; ++j) yr[j] += w[j] * xi;
    }
    if (relu)
      for (int j = 0; j < n_out; ++j) yr[j] = yr[j] > 0.f ? yr[j] : 0.f;
  }
}

// dx[r][i] (= or +=) sum_j delta[r][j] w[j][i].
SC_CPU_CLONES
void layer_input_grad(const float* w, int n_in, int n_out, int rows, TileView delta, TileView dx, bool accumulate) {
  for (int r = 0; r < rows; ++r) {
    const float* dr = delta.row(r);
    float* xr = dx.row(r);
    if (!accumulate)
      for (int i = 0; i < n_in; ++i) xr[i] = 0.f;
    for (int j = 0; j < n_out; ++j) {
      const float d = dr[j];
      const float* wj = w + static_cast<ptrdiff_t>(j) * n_in;
      for (int i = 0; i < n_in; ++i) xr[i] += d * wj[i];
    }
  }
}

// gw[j][i] += sum_r delta[r][j] x[r][i]; gb[j] += sum_r delta[r][j] (gb may be null).
SC_CPU_CLONES
void layer_weight_grad(int n_in, int n_out, int rows, TileView delta, TileView x, float* gw, float* gb) {
  for (int r = 0; r < rows; ++r) {
    const float* dr = delta.row(r);
    const float* xr = x.row(r);
    for (int j = 0; j < n_out; ++j) {
      const float d = dr[j];
      float* g = gw + static_cast<ptrdiff_t>(j) * n_in;
      for (int i = 0; i < n_in; ++i) g[i] += d * xr[i];
    }
    if (gb)
      for (int j = 0; j < n_out; ++j) gb[j] += dr[j];
  }
}

// Through the ReLU that produced act: the gradient passes where the activation is positive.
void relu_mask(int rows, int n, TileView act, TileView g) {
  for (int r = 0; r < rows; ++r) {
    const float* a = act.row(r);
    float* gr = g.row(r);
    for (int i = 0; i < n; ++i) gr[i] = a[i] > 0.f ? gr[i] : 0.f;
  }
}
}  // namespace

NetTile::NetTile(const MlpLayout& L, TileView input) {
  size_t total = 0;
  for (int l = 1; l <= L.layers; ++l) total += static_cast<size_t>(kCpuTileRows) * L.width[l];
  storage.resize(total);
  act[0] = input;
  float* cursor = storage.data();
  for (int l = 1; l <= L.layers; ++l) {
    act[l] = {cursor, L.width[l]};
    cursor += static_cast<size_t>(kCpuTileRows) * L.width[l];
  }
}

CpuGradNet::CpuGradNet(const MlpLayout& layout, const float* raw) : L_(layout), raw_(raw) {
  int offset = 0, transposed = 0;
  for (int l = 0; l < L_.layers; ++l) {
    offset_[l] = offset;
    transposed_offset_[l] = transposed;
    offset += L_.width[l + 1] * (L_.width[l] + (L_.bias ? 1 : 0));
    transposed += L_.width[l + 1] * L_.width[l];
  }
  transposed_.resize(transposed);
  for (int l = 0; l < L_.layers; ++l) {
    const int n_in = L_.width[l], n_out = L_.width[l + 1];
    const float* w = raw_ + offset_[l];
    float* t = transposed_.data() + transposed_offset_[l];
    for (int j = 0; j < n_out; ++j)
      for (int i = 0; i < n_in; ++i) t[i * n_out + j] = w[j * n_in + i];
  }
}

void CpuGradNet::forward(int rows, const NetTile& tile, int layers) const {
  for (int l = 0; l < layers; ++l) {
    const int n_in = L_.width[l], n_out = L_.width[l + 1];
    const float* bias = L_.bias ? raw_ + offset_[l] + n_out * n_in : nullptr;
    layer_forward(transposed_.data() + transposed_offset_[l], bias, n_in, n_out, l + 1 < L_.layers, rows,
                  tile.act[l], tile.act[l + 1]);
  }
}

void CpuGradNet::backward(int rows, const NetTile& tile, TileView delta, float* grad, TileView dx,
                          bool accumulate_dx, float* scratch) const {
  TileView spare[2] = {{scratch, kMaxMlpWidth}, {scratch + kCpuTileRows * kMaxMlpWidth, kMaxMlpWidth}};
  for (int l = L_.layers - 1; l >= 0; --l) {
    const int n_in = L_.width[l], n_out = L_.width[l + 1];
    float* gw = grad + offset_[l];
    layer_weight_grad(n_in, n_out, rows, delta, tile.act[l], gw, L_.bias ? gw + n_out * n_in : nullptr);
    if (l > 0) {
      const TileView next = spare[l & 1];
      layer_input_grad(raw_ + offset_[l], n_in, n_out, rows, delta, next, false);
      relu_mask(rows, n_in, tile.act[l], next);
      delta = next;
    } else if (dx.p) {
      layer_input_grad(raw_ + offset_[l], n_in, n_out, rows, delta, dx, accumulate_dx);
    }
  }
}

std::vector<CpuGradNet> prepare_grad_nets(const MlpLayout& L, const PerSegment<const float*>& weights,
                                          const Segments& seg) {
  std::vector<CpuGradNet> nets;
  nets.reserve(seg.count);
  for (int s = 0; s < seg.count; ++s) nets.emplace_back(L, weights.at[s]);
  return nets;
}

}  // namespace splatcast
