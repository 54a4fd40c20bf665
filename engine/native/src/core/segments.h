// A batch is a list of segments: one segment = one frame of one identity. Row-wise data of all segments is
// concatenated; per-identity data (weights, Gaussians) is reached through one pointer per segment. Both tables
// travel by value as kernel parameters, so there is no per-call device allocation.
#pragma once
#include "common.h"

namespace splatcast {

constexpr int kMaxSegments = 128;

struct Segments {
  int32_t count = 0;
  int32_t offset[kMaxSegments + 1] = {0};  // rows [offset[s], offset[s + 1]) belong to segment s
  SC_HD int32_t rows() const { return offset[count]; }
  SC_HD int32_t rows_of(int s) const { return offset[s + 1] - offset[s]; }
  // Segment holding `row` (binary search; count <= 128, so at most 7 steps).
  SC_HD int segment_of(int32_t row) const {
    int lo = 0, hi = count - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >> 1;
      if (offset[mid] <= row) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
};

template <typename T>
struct PerSegment {
  T at[kMaxSegments] = {};
};

}  // namespace splatcast
