// Deterministic per-segment gradient sums for the CPU backward passes. Each segment's rows are cut into chunks of a
// fixed row count; every chunk adds its rows' contributions into a zeroed partial buffer of its own (the chunks run
// concurrently on the thread pool); then the partials of each segment are summed in chunk order and handed to
// `flush`, one segment after another. Chunk boundaries depend only on the row counts, so the sums are the same for
// any thread count, and segments of one identity may share gradient buffers (flush never runs concurrently).
#pragma once
#include <cstddef>
#include <vector>

#include "../core/parallel.h"

namespace splatcast {

// chunk(s, first_row, rows, partial) adds into partial[0 .. width); flush(s, sum) consumes segment s's total.
// Segments without rows are not flushed.
template <typename ChunkFn, typename FlushFn>
void reduce_segment_chunks(const Segments& seg, int32_t chunk_rows, size_t width, const ChunkFn& chunk,
                           const FlushFn& flush) {
  std::vector<int64_t> first_chunk(seg.count + 1, 0);
  for (int s = 0; s < seg.count; ++s)
    first_chunk[s + 1] = first_chunk[s] + (seg.rows_of(s) + chunk_rows - 1) / chunk_rows;
  const int64_t chunks = first_chunk[seg.count];
  std::vector<float> partial(static_cast<size_t>(chunks) * width, 0.f);
  parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
    int s = 0;
    for (int64_t c = begin; c < end; ++c) {
      while (c >= first_chunk[s + 1]) ++s;
      const int32_t row = seg.offset[s] + static_cast<int32_t>(c - first_chunk[s]) * chunk_rows;
      const int32_t rows = seg.offset[s + 1] - row < chunk_rows ? seg.offset[s + 1] - row : chunk_rows;
      chunk(s, row, rows, partial.data() + c * width);
    }
  });
  for (int s = 0; s < seg.count; ++s) {
    if (first_chunk[s] == first_chunk[s + 1]) continue;
    float* sum = partial.data() + first_chunk[s] * width;
    parallel_for(static_cast<int64_t>(width), 4096, [&](int64_t begin, int64_t end) {
      for (int64_t c = first_chunk[s] + 1; c < first_chunk[s + 1]; ++c) {
        const float* part = partial.data() + c * width;
        for (int64_t p = begin; p < end; ++p) sum[p] += part[p];
      }
    });
    flush(s, static_cast<const float*>(sum));
  }
}

// dst[i] += src[i] for i < n.
inline void add_into(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace splatcast
