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

// Backward passes: one segment at a time (segments of one identity may share gradient buffers), its rows in
// parallel (distinct rows touch distinct base entries), so sums are race-free and thread-count independent.
namespace {
void add(float* p, float v) { *p += v; }

template <typename RowFn>
void for_rows_by_segment(const Segments& seg, const RowFn& fn) {
  for (int s = 0; s < seg.count; ++s)
    parallel_for(seg.rows_of(s), kRowsPerChunk, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) fn(s, seg.offset[s] + static_cast<int32_t>(i));
    });
}
}  // namespace

void gather_rows_backward_cpu(const GatherRowsBackwardArgs& a) {
  for_rows_by_segment(a.seg, [&](int s, int32_t row) {
    float* dst = a.grad_sources.at[s] + static_cast<size_t>(row - a.seg.offset[s]) * a.columns;
    const float* src = a.grad_out + static_cast<size_t>(row) * a.columns;
    for (int c = 0; c < a.columns; ++c) dst[c] += src[c];
  });
}

void aligner_apply_backward_cpu(const AlignerApplyBackwardArgs& a) {
  for_rows_by_segment(a.seg, [&](int s, int32_t row) { aligner_row_backward(a, s, row, add); });
}

void deform_gaussians_backward_cpu(const DeformGaussiansBackwardArgs& a) {
  for_rows_by_segment(a.seg, [&](int s, int32_t row) { deform_row_backward(a, s, row, add); });
}

}  // namespace splatcast
