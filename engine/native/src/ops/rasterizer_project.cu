// Projection and key emission kernels of the CUDA rasterizer.
#include "../core/cuda_runtime.h"
#include "rasterizer_cuda.h"
#include "rasterizer_math.h"

namespace splatcast::raster_cuda {

namespace {
constexpr int kThreads = 256;

__global__ void project_kernel(const __grid_constant__ RasterizerArgs a, ProjectedSplat* splats, TileRect* rects,
                               uint32_t* counts) {
  const int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  counts[row] = project_splat(a, a.seg.segment_of(row), row, splats[row], rects[row]);
}

// One thread per Gaussian writes its keys contiguously, in row order across threads: the stable sort then breaks
// depth ties by row, as the CPU twin does.
__global__ void emit_keys_kernel(const __grid_constant__ RasterizerArgs a, const ProjectedSplat* splats,
                                 const TileRect* rects, const uint32_t* counts, const int64_t* ends, uint64_t* keys,
                                 uint32_t* rows) {
  const int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  const uint32_t count = counts[row];
  if (count == 0) return;
  int64_t out = ends[row] - count;
  const TileRect r = rects[row];
  const float depth = splats[row].depth;
  const int32_t tiles_x = a.opt.tiles_x();
  const int32_t first_bin = a.seg.segment_of(row) * a.opt.tiles();
  for (int ty = r.y0; ty < r.y1; ++ty)
    for (int tx = r.x0; tx < r.x1; ++tx, ++out) {
      keys[out] = tile_key(first_bin + ty * tiles_x + tx, depth);
      rows[out] = static_cast<uint32_t>(row);
    }
}
}  // namespace

void project(const RasterizerArgs& a, ProjectedSplat* splats, TileRect* rects, uint32_t* counts) {
  const int32_t rows = a.seg.rows();
  if (rows == 0) return;
  project_kernel<<<(rows + kThreads - 1) / kThreads, kThreads>>>(a, splats, rects, counts);
  cuda::check_launch("rasterizer project");
}

void emit_keys(const RasterizerArgs& a, const ProjectedSplat* splats, const TileRect* rects, const uint32_t* counts,
               const int64_t* ends, uint64_t* keys, uint32_t* rows) {
  const int32_t n = a.seg.rows();
  if (n == 0) return;
  emit_keys_kernel<<<(n + kThreads - 1) / kThreads, kThreads>>>(a, splats, rects, counts, ends, keys, rows);
  cuda::check_launch("rasterizer emit keys");
}

}  // namespace splatcast::raster_cuda
