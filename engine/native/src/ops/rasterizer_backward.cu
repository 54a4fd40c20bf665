// CUDA backward pass of the rasterizer (rasterizer_backward.h): zero the per-Gaussian sums, blend backward (one
// 16x16 block per (tile, segment), back to front), then one thread per Gaussian for the 3D chain.
#include <stdexcept>

#include "../core/cuda_runtime.h"
#include "rasterizer_backward_math.h"

namespace splatcast {

namespace {
constexpr int kBlock = kTileSize * kTileSize;
constexpr int kThreads = 256;
constexpr unsigned kFullWarp = 0xffffffffu;

// Butterfly sum over the warp: every lane ends with the total.
__device__ inline float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

__device__ inline void warp_sum(SplatGrad& d) {
  d.u = warp_sum(d.u);
  d.v = warp_sum(d.v);
  d.conic_a = warp_sum(d.conic_a);
  d.conic_b = warp_sum(d.conic_b);
  d.conic_c = warp_sum(d.conic_c);
  d.opacity = warp_sum(d.opacity);
  d.depth = warp_sum(d.depth);
  d.r = warp_sum(d.r);
  d.g = warp_sum(d.g);
  d.b = warp_sum(d.b);
}

__device__ inline void atomic_add(SplatGrad* to, const SplatGrad& d) {
  atomicAdd(&to->u, d.u);
  atomicAdd(&to->v, d.v);
  atomicAdd(&to->conic_a, d.conic_a);
  atomicAdd(&to->conic_b, d.conic_b);
  atomicAdd(&to->conic_c, d.conic_c);
  atomicAdd(&to->opacity, d.opacity);
  atomicAdd(&to->depth, d.depth);
  atomicAdd(&to->r, d.r);
  atomicAdd(&to->g, d.g);
  atomicAdd(&to->b, d.b);
}

// The block walks its bin's sorted list from the furthest end any of its pixels reached down to the bin's begin,
// staging a block-sized batch of splats in shared memory at a time. Every thread of a warp visits the same
// Gaussian at the same step, so the warp sums its pixels' gradients with shuffles and one lane adds them to the
// Gaussian's total: a tenth of the atomics of one add per pixel, or less.
__global__ void __launch_bounds__(kBlock)
    blend_backward_kernel(const __grid_constant__ RasterizerGrads grads, const RasterizerOptions opt,
                          const ProjectedSplat* splats, const uint32_t* sorted_rows, const TileRange* ranges,
                          const float* pixel_T, const int32_t* pixel_end, SplatGrad* splat_grads) {
  __shared__ ProjectedSplat batch[kBlock];
  __shared__ uint32_t batch_rows[kBlock];
  __shared__ int32_t block_end;
  const int32_t W = opt.width, H = opt.height;
  const int s = blockIdx.z;
  const int x = blockIdx.x * kTileSize + threadIdx.x, y = blockIdx.y * kTileSize + threadIdx.y;
  const int thread = threadIdx.y * kTileSize + threadIdx.x, lane = thread & 31;
  const bool inside = x < W && y < H;
  const TileRange range = ranges[static_cast<int64_t>(s) * opt.tiles() + blockIdx.y * opt.tiles_x() + blockIdx.x];
  const size_t pixel = inside ? (static_cast<size_t>(s) * H + y) * W + x : 0;
  // Pixels outside the image take part in every step (the warp sums need all lanes) but blend nothing.
  PixelGrad p = pixel_grad(grads, pixel, x, y, pixel_T[pixel]);
  const int32_t end = inside ? pixel_end[pixel] : range.begin;
  if (thread == 0) block_end = range.begin;
  __syncthreads();
  atomicMax(&block_end, end);
  __syncthreads();
  for (int32_t top = block_end; top > range.begin; top -= kBlock) {
    const int32_t first = max(range.begin, top - kBlock);
    __syncthreads();  // the previous batch is consumed
    if (first + thread < top) {
      const uint32_t row = sorted_rows[first + thread];
      batch_rows[thread] = row;
      batch[thread] = splats[row];
    }
    __syncthreads();
    for (int32_t i = top - 1; i >= first; --i) {
      SplatGrad d{};
      const bool hit = i < end && blend_splat_backward(batch[i - first], p, d);
      if (!__any_sync(kFullWarp, hit)) continue;
      warp_sum(d);
      if (lane == 0) atomic_add(splat_grads + batch_rows[i - first], d);
    }
  }
}

__global__ void gaussian_backward_kernel(const __grid_constant__ RasterizerArgs a,
                                         const __grid_constant__ RasterizerGrads grads, const ProjectedSplat* splats,
                                         const uint32_t* counts, const SplatGrad* splat_grads) {
  const int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  if (counts[row] == 0) zero_gaussian_grads(grads, row, a.opt.sh_coeffs());
  else gaussian_backward(a, grads, a.seg.segment_of(row), row, splats[row], splat_grads[row]);
}
}  // namespace

void rasterizer_backward_cuda(const RasterizerArgs& a, const RasterizerGrads& grads, RasterWorkspace& ws) {
  const RasterContext& ctx = ws.context;
  if (!ctx.valid) throw std::logic_error("rasterizer backward: no training forward on this workspace");
  const int32_t rows = ctx.seg.rows();
  if (rows == 0) return;
  SplatGrad* splat_grads = ws.splat_grads.reserve<SplatGrad>(rows);
  const ProjectedSplat* splats = ws.splats.data<ProjectedSplat>();
  cuda::zero(splat_grads, static_cast<size_t>(rows) * sizeof(SplatGrad));
  if (ctx.intersections > 0) {
    const dim3 grid(ctx.opt.tiles_x(), ctx.opt.tiles_y(), ctx.seg.count);
    blend_backward_kernel<<<grid, dim3(kTileSize, kTileSize)>>>(grads, ctx.opt, splats, ctx.sorted_rows,
                                                                ws.ranges.data<TileRange>(), ws.pixel_T.data<float>(),
                                                                ws.pixel_end.data<int32_t>(), splat_grads);
    cuda::check_launch("rasterizer blend backward");
  }
  gaussian_backward_kernel<<<(rows + kThreads - 1) / kThreads, kThreads>>>(a, grads, splats,
                                                                          ws.counts.data<uint32_t>(), splat_grads);
  cuda::check_launch("rasterizer gaussian backward");
}

}  // namespace splatcast
