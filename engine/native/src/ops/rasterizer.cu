// CUDA rasterizer: project -> scan tile counts -> (one readback) -> emit keys -> radix sort -> tile ranges -> blend.
#include <cub/cub.cuh>

#include <stdexcept>
#include <string>

#include "../core/cuda_runtime.h"
#include "rasterizer_cuda.h"
#include "rasterizer_math.h"

namespace splatcast {

namespace {
void cub_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("CUDA error during rasterizer ") + what + ": " +
                                                   cudaGetErrorString(err));
}

// Widens while summing: tile counts are 32-bit, their total may not be.
struct AddWide {
  __host__ __device__ int64_t operator()(int64_t x, int64_t y) const { return x + y; }
};

__global__ void tile_ranges_kernel(const uint64_t* keys, int32_t n, TileRange* ranges) {
  const int32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int32_t bin = static_cast<int32_t>(keys[i] >> 32);
  if (i == 0 || static_cast<int32_t>(keys[i - 1] >> 32) != bin) ranges[bin].begin = i;
  if (i == n - 1 || static_cast<int32_t>(keys[i + 1] >> 32) != bin) ranges[bin].end = i + 1;
}

int bit_width(uint32_t v) {
  int bits = 0;
  for (; v; v >>= 1) ++bits;
  return bits;
}
}  // namespace

namespace raster_cuda {
void tile_ranges(const uint64_t* sorted_keys, int32_t intersections, TileRange* ranges) {
  if (intersections == 0) return;
  tile_ranges_kernel<<<(intersections + 255) / 256, 256>>>(sorted_keys, intersections, ranges);
  cuda::check_launch("rasterizer tile ranges");
}
}  // namespace raster_cuda

int64_t rasterizer_forward_cuda(const RasterizerArgs& a, RasterWorkspace& ws, bool train) {
  ws.context.valid = false;
  const int32_t rows = a.seg.rows();
  const int32_t bins = a.seg.count * a.opt.tiles();
  ProjectedSplat* splats = ws.splats.reserve<ProjectedSplat>(rows);
  TileRect* rects = ws.rects.reserve<TileRect>(rows);
  uint32_t* counts = ws.counts.reserve<uint32_t>(rows);
  int64_t* ends = ws.offsets.reserve<int64_t>(rows);
  TileRange* ranges = ws.ranges.reserve<TileRange>(bins);

  int64_t total = 0;
  if (rows > 0) {
    raster_cuda::project(a, splats, rects, counts);
    size_t scan_bytes = 0;
    cub_check(cub::DeviceScan::InclusiveScan(nullptr, scan_bytes, counts, ends, AddWide{}, rows), "scan sizing");
    cub_check(cub::DeviceScan::InclusiveScan(ws.scratch.reserve(scan_bytes), scan_bytes, counts, ends, AddWide{},
                                             rows),
              "scan");
    // The frame's one host sync: the intersection total sizes the key buffers.
    cuda::download(&total, ends + rows - 1, sizeof total);
  }
  if (total > INT32_MAX)
    throw std::length_error("rasterizer: " + std::to_string(total) +
                            " tile intersections exceed 2^31; render fewer segments per call");
  const int32_t n = static_cast<int32_t>(total);

  cuda::zero(ranges, static_cast<size_t>(bins) * sizeof(TileRange));
  const uint32_t* sorted_rows = nullptr;
  if (n > 0) {
    cub::DoubleBuffer<uint64_t> keys(ws.keys[0].reserve<uint64_t>(n), ws.keys[1].reserve<uint64_t>(n));
    cub::DoubleBuffer<uint32_t> ids(ws.rows[0].reserve<uint32_t>(n), ws.rows[1].reserve<uint32_t>(n));
    raster_cuda::emit_keys(a, splats, rects, counts, ends, keys.Current(), ids.Current());
    // Only the bits in use: 32 of depth plus those of the largest bin index.
    const int end_bit = 32 + bit_width(static_cast<uint32_t>(bins - 1));
    size_t sort_bytes = 0;
    cub_check(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, keys, ids, n, 0, end_bit), "sort sizing");
    cub_check(cub::DeviceRadixSort::SortPairs(ws.scratch.reserve(sort_bytes), sort_bytes, keys, ids, n, 0, end_bit),
              "sort");
    raster_cuda::tile_ranges(keys.Current(), n, ranges);
    sorted_rows = ids.Current();
  }
  const int64_t pixels = static_cast<int64_t>(a.seg.count) * a.opt.height * a.opt.width;
  float* pixel_T = train ? ws.pixel_T.reserve<float>(pixels) : nullptr;
  int32_t* pixel_end = train ? ws.pixel_end.reserve<int32_t>(pixels) : nullptr;
  raster_cuda::blend(a, splats, sorted_rows, ranges, pixel_T, pixel_end);
  if (train) record_context(a, n, sorted_rows, ws.context);
  return total;
}

}  // namespace splatcast
