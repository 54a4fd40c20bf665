// CPU twin of the rasterizer's backward pass (rasterizer_backward.h). Deterministic for any thread count: each
// (segment, tile) bin is one task that writes only the gradient slots of its own intersections; a second pass sums
// those slots per Gaussian in sorted-list order; a third runs the per-Gaussian chain.
// Contraction stays off as in rasterizer_cpu.cpp: the skip decisions repeat the forward's Strict arithmetic.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <stdexcept>

#include "../core/parallel.h"
#include "rasterizer_backward_math.h"

namespace splatcast {

namespace {

constexpr int64_t kBinGrain = 1;     // (segment, tile) bins per chunk: a bin is a whole tile's pixels
constexpr int64_t kRowGrain = 1024;  // Gaussians per chunk

// entry_grads[i] = the gradient that the pixels of entry i's bin send its Gaussian.
void blend_backward_all(const RasterContext& ctx, const RasterizerGrads& grads, const ProjectedSplat* splats,
                        const TileRange* ranges, const uint64_t* entries, const float* pixel_T,
                        const int32_t* pixel_end, SplatGrad* entry_grads) {
  const int32_t W = ctx.opt.width, H = ctx.opt.height, tiles_x = ctx.opt.tiles_x(), tiles = ctx.opt.tiles();
  parallel_for(static_cast<int64_t>(ctx.seg.count) * tiles, kBinGrain, [&](int64_t b0, int64_t b1) {
    for (int64_t bin = b0; bin < b1; ++bin) {
      const TileRange range = ranges[bin];
      std::fill(entry_grads + range.begin, entry_grads + range.end, SplatGrad{});
      const int s = static_cast<int>(bin / tiles), tile = static_cast<int>(bin % tiles);
      const int x0 = (tile % tiles_x) * kTileSize, y0 = (tile / tiles_x) * kTileSize;
      for (int y = y0; y < std::min(y0 + kTileSize, H); ++y)
        for (int x = x0; x < std::min(x0 + kTileSize, W); ++x) {
          const size_t pixel = (static_cast<size_t>(s) * H + y) * W + x;
          PixelGrad p = pixel_grad(grads, pixel, x, y, pixel_T[pixel]);
          for (int32_t i = pixel_end[pixel] - 1; i >= range.begin; --i) {
            SplatGrad d;
            if (blend_splat_backward(splats[static_cast<uint32_t>(entries[i])], p, d)) add_splat_grad(entry_grads[i], d);
          }
        }
    }
  });
}

// row_grads[row] = sum of the row's entry gradients, in sorted-list order. Segments run in parallel: a segment's
// entries form one contiguous span (its bins are consecutive) and hold only its own rows.
void sum_per_gaussian(const RasterContext& ctx, const TileRange* ranges, const uint64_t* entries,
                      const SplatGrad* entry_grads, SplatGrad* row_grads) {
  const int32_t tiles = ctx.opt.tiles();
  parallel_for(ctx.seg.count, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      std::fill(row_grads + ctx.seg.offset[s], row_grads + ctx.seg.offset[s + 1], SplatGrad{});
      const int32_t begin = ranges[s * tiles].begin, end = ranges[(s + 1) * tiles - 1].end;
      for (int32_t i = begin; i < end; ++i) add_splat_grad(row_grads[static_cast<uint32_t>(entries[i])], entry_grads[i]);
    }
  });
}

}  // namespace

void rasterizer_backward_cpu(const RasterizerArgs& a, const RasterizerGrads& grads, RasterWorkspace& ws) {
  const RasterContext& ctx = ws.context;
  if (!ctx.valid) throw std::logic_error("rasterizer backward: no training forward on this workspace");
  const int32_t rows = ctx.seg.rows(), n = ctx.intersections;
  const ProjectedSplat* splats = ws.splats.data<ProjectedSplat>();
  const uint32_t* counts = ws.counts.data<uint32_t>();
  const TileRange* ranges = ws.ranges.data<TileRange>();
  const uint64_t* entries = ws.keys[0].data<uint64_t>();
  // Intersection slots first, then one per Gaussian.
  SplatGrad* entry_grads = ws.splat_grads.reserve<SplatGrad>(static_cast<int64_t>(n) + rows);
  SplatGrad* row_grads = entry_grads + n;
  blend_backward_all(ctx, grads, splats, ranges, entries, ws.pixel_T.data<float>(), ws.pixel_end.data<int32_t>(),
                     entry_grads);
  sum_per_gaussian(ctx, ranges, entries, entry_grads, row_grads);
  parallel_for_rows(ctx.seg, kRowGrain, [&](int s, int32_t row) {
    if (counts[row] == 0) zero_gaussian_grads(grads, row, ctx.opt.sh_coeffs());
    else gaussian_backward(a, grads, s, row, splats[row], row_grads[row]);
  });
}

}  // namespace splatcast
