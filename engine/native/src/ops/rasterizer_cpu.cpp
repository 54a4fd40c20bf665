// CPU twin of the rasterizer: the same stages as the CUDA path, and bit-identical results (see rasterizer_math.h).
// GCC contracts a * b + c into FMA wherever the target has it (aarch64, or x86 with -march=native), which would
// break that identity; Clang only contracts within one source expression, which Strict never spans.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "rasterizer_math.h"

namespace splatcast {

namespace {

// Projects every Gaussian; returns the number of tile intersections.
int64_t project_all(const RasterizerArgs& a, ProjectedSplat* splats, TileRect* rects, uint32_t* counts) {
  int64_t total = 0;
  for (int s = 0; s < a.seg.count; ++s)
    for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) {
      counts[row] = project_splat(a, s, row, splats[row], rects[row]);
      total += counts[row];
    }
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
  for (int32_t b = 0; b < bins; ++b) std::sort(entries + ranges[b].begin, entries + ranges[b].end);
}

void blend_all(const RasterizerArgs& a, const ProjectedSplat* splats, const TileRange* ranges,
               const uint64_t* entries) {
  const int32_t W = a.opt.width, H = a.opt.height, tiles_x = a.opt.tiles_x(), tiles = a.opt.tiles();
  for (int s = 0; s < a.seg.count; ++s)
    for (int32_t tile = 0; tile < tiles; ++tile) {
      const TileRange range = ranges[s * tiles + tile];
      const int x0 = (tile % tiles_x) * kTileSize, y0 = (tile / tiles_x) * kTileSize;
      for (int y = y0; y < std::min(y0 + kTileSize, H); ++y)
        for (int x = x0; x < std::min(x0 + kTileSize, W); ++x) {
          const float px = static_cast<float>(x) + 0.5f, py = static_cast<float>(y) + 0.5f;
          PixelState p;
          for (int32_t i = range.begin; i < range.end; ++i)
            if (blend_splat(splats[static_cast<uint32_t>(entries[i])], px, py, p)) break;
          const size_t pixel = (static_cast<size_t>(s) * H + y) * W + x;
          a.rgb[pixel * 3] = p.r;
          a.rgb[pixel * 3 + 1] = p.g;
          a.rgb[pixel * 3 + 2] = p.b;
          a.alpha[pixel] = 1.f - p.T;
          if (a.depth) a.depth[pixel] = p.depth;
        }
    }
}

}  // namespace

int64_t rasterizer_forward_cpu(const RasterizerArgs& a, RasterWorkspace& ws) {
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
  blend_all(a, splats, ranges, entries);
  return total;
}

}  // namespace splatcast
