#include "../core/parallel.h"
#include "composite_math.h"

namespace splatcast {

namespace {
constexpr int64_t kRowsPerChunk = 16;  // image rows per thread-pool chunk
}  // namespace

// Two passes over all image rows; the column pass reads the row pass's scratch, so it starts once that is done.
void composite_cpu(const CompositeArgs& a) {
  const int64_t rows = static_cast<int64_t>(a.images) * a.height;
  auto for_each_pixel = [&](auto pixel_op) {
    parallel_for(rows, kRowsPerChunk, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row)
        for (int x = 0; x < a.width; ++x)
          pixel_op(a, static_cast<int>(row / a.height), static_cast<int>(row % a.height), x);
    });
  };
  for_each_pixel(dilate_row_pixel);
  for_each_pixel(composite_pixel);
}

// Four passes over all image rows, each starting once the previous one is done (composite_math.h).
void composite_backward_cpu(const CompositeBackwardArgs& a) {
  const int64_t rows = static_cast<int64_t>(a.images) * a.height;
  auto for_each_pixel = [&](auto pixel_op) {
    parallel_for(rows, kRowsPerChunk, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row)
        for (int x = 0; x < a.width; ++x)
          pixel_op(a, static_cast<int>(row / a.height), static_cast<int>(row % a.height), x);
    });
  };
  for_each_pixel(composite_backward_row_max);
  for_each_pixel(composite_backward_blend);
  for_each_pixel(composite_backward_columns);
  for_each_pixel(composite_backward_rows);
}

}  // namespace splatcast
