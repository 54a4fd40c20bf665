// Front-to-back blending: one 16x16 block per (tile, segment). The tile's depth-sorted Gaussians are staged
// through shared memory a block-sized batch at a time; the block stops as soon as every pixel is done. The training
// instantiation also records each pixel's final T and the end of its blended span (RasterContext).
#include "../core/cuda_runtime.h"
#include "rasterizer_cuda.h"
#include "rasterizer_math.h"

namespace splatcast::raster_cuda {

namespace {
constexpr int kBlock = kTileSize * kTileSize;

template <bool kTrain>
__global__ void __launch_bounds__(kBlock)
    blend_kernel(const __grid_constant__ RasterizerArgs a, const ProjectedSplat* splats,
                 const uint32_t* sorted_rows, const TileRange* ranges, float* pixel_T, int32_t* pixel_end) {
  __shared__ ProjectedSplat batch[kBlock];
  const int32_t W = a.opt.width, H = a.opt.height;
  const int s = blockIdx.z;
  const int x = blockIdx.x * kTileSize + threadIdx.x, y = blockIdx.y * kTileSize + threadIdx.y;
  const int thread = threadIdx.y * kTileSize + threadIdx.x;
  const bool inside = x < W && y < H;
  const TileRange range = ranges[static_cast<int64_t>(s) * a.opt.tiles() + blockIdx.y * a.opt.tiles_x() + blockIdx.x];
  const float px = static_cast<float>(x) + 0.5f, py = static_cast<float>(y) + 0.5f;
  PixelState p;
  bool done = !inside;
  int32_t end = range.begin;
  for (int32_t base = range.begin; base < range.end; base += kBlock) {
    // Also the barrier that lets the previous batch be overwritten.
    if (__syncthreads_count(done) == kBlock) break;
    if (base + thread < range.end) batch[thread] = splats[sorted_rows[base + thread]];
    __syncthreads();
    const int n = min(kBlock, range.end - base);
    for (int j = 0; !done && j < n; ++j) {
      if constexpr (kTrain) {
        // A blended Gaussian always lowers T (alpha >= 1/255 moves it by far more than an ulp), a skipped one
        // leaves it as it was: that tells which Gaussians were blended.
        const float T_before = p.T;
        done = blend_splat(batch[j], px, py, p);
        if (p.T != T_before) end = base + j + 1;
      } else {
        done = blend_splat(batch[j], px, py, p);
      }
    }
  }
  if (!inside) return;
  const size_t pixel = (static_cast<size_t>(s) * H + y) * W + x;
  a.rgb[pixel * 3] = p.r;
  a.rgb[pixel * 3 + 1] = p.g;
  a.rgb[pixel * 3 + 2] = p.b;
  a.alpha[pixel] = 1.f - p.T;
  if (a.depth) a.depth[pixel] = p.depth;
  if constexpr (kTrain) {
    pixel_T[pixel] = p.T;
    pixel_end[pixel] = end;
  }
}
}  // namespace

void blend(const RasterizerArgs& a, const ProjectedSplat* splats, const uint32_t* sorted_rows,
           const TileRange* ranges, float* pixel_T, int32_t* pixel_end) {
  const dim3 grid(a.opt.tiles_x(), a.opt.tiles_y(), a.seg.count);
  const dim3 block(kTileSize, kTileSize);
  if (pixel_T)
    blend_kernel<true><<<grid, block>>>(a, splats, sorted_rows, ranges, pixel_T, pixel_end);
  else
    blend_kernel<false><<<grid, block>>>(a, splats, sorted_rows, ranges, nullptr, nullptr);
  cuda::check_launch("rasterizer blend");
}

}  // namespace splatcast::raster_cuda
