// The CUDA rasterizer's stages, launched in order by rasterizer_forward_cuda (rasterizer.cu) on the default stream.
#pragma once
#include "rasterizer.h"

namespace splatcast::raster_cuda {

// Projects every row into splats, rects and counts (tiles overlapped; 0 = culled).
void project(const RasterizerArgs& a, ProjectedSplat* splats, TileRect* rects, uint32_t* counts);
// Writes each visible Gaussian's keys and row ids from its inclusive tile-count prefix sum `ends`.
void emit_keys(const RasterizerArgs& a, const ProjectedSplat* splats, const TileRect* rects, const uint32_t* counts,
               const int64_t* ends, uint64_t* keys, uint32_t* rows);
// ranges must be zeroed: bins no key falls into stay empty.
void tile_ranges(const uint64_t* sorted_keys, int32_t intersections, TileRange* ranges);
// Writes every pixel of rgb, alpha and depth (when requested); one 16x16 block per tile. A training forward also
// passes pixel_T and pixel_end (RasterContext); inference passes null and runs the kernel without that bookkeeping.
void blend(const RasterizerArgs& a, const ProjectedSplat* splats, const uint32_t* sorted_rows,
           const TileRange* ranges, float* pixel_T, int32_t* pixel_end);

}  // namespace splatcast::raster_cuda
