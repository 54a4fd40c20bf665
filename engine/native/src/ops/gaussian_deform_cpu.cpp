#include <algorithm>
#include <cstring>

#include "../core/parallel.h"
#include "gaussian_deform_math.h"

namespace splatcast {

namespace {
constexpr int64_t kRowsPerChunk = 4096;  // Gaussians per thread-pool chunk
}  // namespace

void gather_rows_cpu(const GatherRowsArgs& a) {
  // Each chunk copies its rows from every segment it overlaps (an empty segment has no buffer to copy from).
  parallel_for(a.seg.rows(), kRowsPerChunk, [&](int64_t begin, int64_t end) {
    for (int s = a.seg.segment_of(static_cast<int32_t>(begin)); s < a.seg.count && a.seg.offset[s] < end; ++s) {
      const int64_t first = std::max<int64_t>(begin, a.seg.offset[s]);
      const int64_t last = std::min<int64_t>(end, a.seg.offset[s + 1]);
      if (first < last)
        std::memcpy(a.out + first * a.columns, a.sources.at[s] + (first - a.seg.offset[s]) * a.columns,
                    static_cast<size_t>(last - first) * a.columns * sizeof(float));
    }
  });
}

void aligner_apply_cpu(const AlignerApplyArgs& a) {
  parallel_for_rows(a.seg, kRowsPerChunk, [&](int s, int32_t row) { aligner_row(a, s, row); });
}

void deform_gaussians_cpu(const DeformGaussiansArgs& a) {
  parallel_for_rows(a.seg, kRowsPerChunk, [&](int s, int32_t row) { deform_row(a, s, row); });
}

}  // namespace splatcast
