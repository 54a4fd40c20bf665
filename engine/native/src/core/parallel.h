// A small thread pool for the CPU twins. Work is split into chunks of consecutive indices; each index is handed to
// exactly one chunk, and a chunk's result never depends on which thread ran it or on the other chunks, so results
// are identical for any thread count (no cross-thread reductions).
//
// Threads: std::thread::hardware_concurrency() (the calling thread counts as one), or SPLATCAST_CPU_THREADS when
// set (1 = everything on the calling thread). Workers are created on first use and live as long as the process.
#pragma once
#include <cstdint>
#include <functional>

#include "segments.h"

namespace splatcast {

// Calls fn(begin, end) for chunks of at most `grain` indices covering [0, n) and returns when all are done. Chunks
// run concurrently on the pool and the calling thread; n <= grain, a one-thread pool or a call from inside a chunk
// runs inline. The first exception a chunk throws is rethrown here once every started chunk has finished.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

// fn(s, row) for every row of the batch, rows in chunks of `grain`.
template <typename Fn>
void parallel_for_rows(const Segments& seg, int64_t grain, const Fn& fn) {
  parallel_for(seg.rows(), grain, [&](int64_t begin, int64_t end) {
    int s = seg.segment_of(static_cast<int32_t>(begin));
    for (int32_t row = static_cast<int32_t>(begin); row < end; ++row) {
      while (row >= seg.offset[s + 1]) ++s;
      fn(s, row);
    }
  });
}

// fn(first_row, count) for the rows of segment s in blocks of `block` consecutive rows (the last may have fewer),
// `grain` blocks per chunk.
template <typename Fn>
void parallel_for_blocks(const Segments& seg, int s, int block, int64_t grain, const Fn& fn) {
  const int32_t first = seg.offset[s], end = seg.offset[s + 1];
  parallel_for((end - first + block - 1) / block, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int32_t row = first + static_cast<int32_t>(b) * block;
      fn(row, end - row < block ? end - row : block);
    }
  });
}

}  // namespace splatcast
