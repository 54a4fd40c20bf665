// CPU twin of the rasterizer: the same stages as the CUDA path, and bit-identical results (see rasterizer_math.h).
// GCC contracts a * b + c into FMA wherever the target has it (aarch64, x86 with -march=native, the AVX2 and
// AVX-512 clones below), which would break that identity; Clang only contracts within one source expression, which
// Strict never spans. no-trapping-math changes no value (this code never reads floating-point exception flags); it
// lets GCC turn the blend's per-pixel selects into vector blends instead of branches.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off", "no-trapping-math")
#endif

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../core/parallel.h"
#include "../core/simd.h"
#include "rasterizer_math.h"

namespace splatcast {

namespace {

constexpr int64_t kProjectGrain = 1024;  // Gaussians per thread-pool chunk
constexpr int64_t kBinGrain = 2;         // (segment, tile) bins per chunk

// Projects every Gaussian; returns the number of tile intersections.
int64_t project_all(const RasterizerArgs& a, ProjectedSplat* splats, TileRect* rects, uint32_t* counts) {
  parallel_for_rows(a.seg, kProjectGrain,
                    [&](int s, int32_t row) { counts[row] = project_splat(a, s, row, splats[row], rects[row]); });
  int64_t total = 0;
  for (int32_t row = 0; row < a.seg.rows(); ++row) total += counts[row];
  return total;
}

// Bins intersections by (segment, tile) with a counting sort, then orders each bin by depth. Ties keep row order,
// as the stable radix sort on the GPU does (rows are emitted in increasing order there).
void bin_intersections(const RasterizerArgs& a, const ProjectedSplat* splats, const TileRect* rects,
                       const uint32_t* counts, TileRange* ranges, uint64_t* entries) {
  const int32_t tiles_x = a.opt.tiles_x(), tiles = a.opt.tiles(), bins = a.seg.count * tiles;
  auto for_each_tile = [&](auto visit) {
    for (int s = 0; s < a.seg.count; ++s)
      for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) {
        if (counts[row] == 0) continue;
        const TileRect& r = rects[row];
        for (int ty = r.y0; ty < r.y1; ++ty)
          for (int tx = r.x0; tx < r.x1; ++tx) visit(s * tiles + ty * tiles_x + tx, row);
      }
  };
  std::fill(ranges, ranges + bins, TileRange{0, 0});
  for_each_tile([&](int32_t bin, int32_t) { ++ranges[bin].end; });
  int32_t start = 0;
  for (int32_t b = 0; b < bins; ++b) {
    const int32_t n = ranges[b].end;
    ranges[b] = {start, start};
    start += n;
  }
  for_each_tile([&](int32_t bin, int32_t row) {
    entries[ranges[bin].end++] = (static_cast<uint64_t>(float_bits(splats[row].depth)) << 32) | uint32_t(row);
  });
  parallel_for(bins, kBinGrain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) std::sort(entries + ranges[b].begin, entries + ranges[b].end);
  });
}

// strict_exp (rasterizer_math.h) with the same operations in the same order, in a form the compiler vectorises:
// floorf is written as truncation corrected downwards, which equals floorf for every value that fits an int32.
inline float strict_exp_lane(float x) {
  const float t = x * 1.44269504f + 0.5f;
  const float truncated = static_cast<float>(static_cast<int32_t>(t)), below = truncated - 1.f;
  const float n = truncated > t ? below : truncated;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.f;
  return p * float_from_bits(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
}

// One row of a tile: blend_splat (rasterizer_math.h) for its pixels at once, with the same operations in the same
// order per pixel. The loops over the row's pixels are branch-free, so they vectorise (one pixel per lane): a pixel
// that blend_splat would have stopped keeps its state from then on, and the row ends when every pixel has stopped.
// `lanes` pixels from column x0 are written. kTrain also records each pixel's final T and the end of its blended
// span (RasterContext); the inference instantiation carries none of that.
template <bool kTrain>
SC_VECTOR_INLINE void blend_row(const ProjectedSplat* splats, const uint64_t* entries, TileRange range, int x0,
                                int lanes, float py, float* rgb, float* alpha, float* depth, float* pixel_T,
                                int32_t* pixel_end) {
  float px[kTileSize], T[kTileSize], r[kTileSize] = {}, g[kTileSize] = {}, b[kTileSize] = {}, z[kTileSize] = {};
  int32_t done[kTileSize], end[kTileSize];
  for (int l = 0; l < kTileSize; ++l) {
    px[l] = static_cast<float>(x0 + l) + 0.5f;
    T[l] = 1.f;
    done[l] = l >= lanes;
    end[l] = range.begin;
  }
  for (int32_t i = range.begin; i < range.end; ++i) {
    const ProjectedSplat& s = splats[static_cast<uint32_t>(entries[i])];
    const float dy = s.v - py, conic_dy = s.conic_c * dy * dy;
    float sigma[kTileSize];
    int32_t live[kTileSize], any_live = 0;
    for (int l = 0; l < kTileSize; ++l) {
      const float dx = s.u - px[l];
      const float q = 0.5f * (s.conic_a * dx * dx + conic_dy) + s.conic_b * dx * dy;
      live[l] = !done[l] & !((q < 0.f) | (q > kSigmaCut));
      // Clamped so the lanes not blended stay in strict_exp's range; those blended (0 <= q <= cut) keep theirs.
      sigma[l] = q < 0.f ? 0.f : (q > kSigmaCut ? kSigmaCut : q);
      any_live |= live[l];
    }
    if (!any_live) continue;  // the common case: the splat misses the whole row
    int32_t all_done = 1;
    for (int l = 0; l < kTileSize; ++l) {
      const float v = s.opacity * strict_exp_lane(-sigma[l]);
      const float a = v < kMaxAlpha ? v : kMaxAlpha;  // fminf(kMaxAlpha, v), NaN included
      const int32_t blend = live[l] & !(a < kMinAlpha);
      const float next_T = T[l] * (1.f - a), w = a * T[l];
      const int32_t stop = blend & (next_T < kMinTransmittance), add = blend & !stop;
      // Computed in every lane and kept where `add`: a conditional float operation would not vectorise.
      const float next_r = r[l] + s.r * w, next_g = g[l] + s.g * w, next_b = b[l] + s.b * w;
      const float next_z = z[l] + s.depth * w;
      r[l] = add ? next_r : r[l];
      g[l] = add ? next_g : g[l];
      b[l] = add ? next_b : b[l];
      z[l] = add ? next_z : z[l];
      T[l] = add ? next_T : T[l];
      if constexpr (kTrain) end[l] = add ? i + 1 : end[l];
      done[l] |= stop;
      all_done &= done[l];
    }
    if (all_done) break;
  }
  for (int l = 0; l < lanes; ++l) {
    rgb[3 * l] = r[l];
    rgb[3 * l + 1] = g[l];
    rgb[3 * l + 2] = b[l];
    alpha[l] = 1.f - T[l];
    if (depth) depth[l] = z[l];
    if constexpr (kTrain) {
      pixel_T[l] = T[l];
      pixel_end[l] = end[l];
    }
  }
}

SC_CPU_CLONES
void blend_tile_row(const ProjectedSplat* splats, const uint64_t* entries, TileRange range, int x0, int lanes,
                    float py, float* rgb, float* alpha, float* depth) {
  blend_row<false>(splats, entries, range, x0, lanes, py, rgb, alpha, depth, nullptr, nullptr);
}

SC_CPU_CLONES
void blend_tile_row_train(const ProjectedSplat* splats, const uint64_t* entries, TileRange range, int x0, int lanes,
                          float py, float* rgb, float* alpha, float* depth, float* pixel_T, int32_t* pixel_end) {
  blend_row<true>(splats, entries, range, x0, lanes, py, rgb, alpha, depth, pixel_T, pixel_end);
}

// Each (segment, tile) bin is one task: it alone writes its pixels. pixel_T and pixel_end: see blend_row.
void blend_all(const RasterizerArgs& a, const ProjectedSplat* splats, const TileRange* ranges,
               const uint64_t* entries, float* pixel_T, int32_t* pixel_end) {
  const int32_t W = a.opt.width, H = a.opt.height, tiles_x = a.opt.tiles_x(), tiles = a.opt.tiles();
  parallel_for(static_cast<int64_t>(a.seg.count) * tiles, kBinGrain, [&](int64_t b0, int64_t b1) {
    for (int64_t bin = b0; bin < b1; ++bin) {
      const int s = static_cast<int>(bin / tiles), tile = static_cast<int>(bin % tiles);
      const int x0 = (tile % tiles_x) * kTileSize, y0 = (tile / tiles_x) * kTileSize;
      for (int y = y0; y < std::min(y0 + kTileSize, H); ++y) {
        const size_t pixel = (static_cast<size_t>(s) * H + y) * W + x0;
        const int lanes = std::min(kTileSize, W - x0);
        const float py = static_cast<float>(y) + 0.5f;
        float* depth = a.depth ? a.depth + pixel : nullptr;
        if (pixel_T)
          blend_tile_row_train(splats, entries, ranges[bin], x0, lanes, py, a.rgb + pixel * 3, a.alpha + pixel, depth,
                               pixel_T + pixel, pixel_end + pixel);
        else
          blend_tile_row(splats, entries, ranges[bin], x0, lanes, py, a.rgb + pixel * 3, a.alpha + pixel, depth);
      }
    }
  });
}

}  // namespace

int64_t rasterizer_forward_cpu(const RasterizerArgs& a, RasterWorkspace& ws, bool train) {
  ws.context.valid = false;
  const int32_t rows = a.seg.rows();
  ProjectedSplat* splats = ws.splats.reserve<ProjectedSplat>(rows);
  TileRect* rects = ws.rects.reserve<TileRect>(rows);
  uint32_t* counts = ws.counts.reserve<uint32_t>(rows);
  const int64_t total = project_all(a, splats, rects, counts);
  if (total > INT32_MAX)
    throw std::length_error("rasterizer: " + std::to_string(total) +
                            " tile intersections exceed 2^31; render fewer segments per call");
  TileRange* ranges = ws.ranges.reserve<TileRange>(static_cast<int64_t>(a.seg.count) * a.opt.tiles());
  uint64_t* entries = ws.keys[0].reserve<uint64_t>(total);
  bin_intersections(a, splats, rects, counts, ranges, entries);
  const int64_t pixels = static_cast<int64_t>(a.seg.count) * a.opt.height * a.opt.width;
  float* pixel_T = train ? ws.pixel_T.reserve<float>(pixels) : nullptr;
  int32_t* pixel_end = train ? ws.pixel_end.reserve<int32_t>(pixels) : nullptr;
  blend_all(a, splats, ranges, entries, pixel_T, pixel_end);
  if (train) record_context(a, static_cast<int32_t>(total), nullptr, ws.context);
  return total;
}

}  // namespace splatcast
