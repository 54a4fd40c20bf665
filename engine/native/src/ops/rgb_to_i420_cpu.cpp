#include "../core/parallel.h"
#include "rgb_to_i420_math.h"

namespace splatcast {

namespace {
constexpr int64_t kBlockRowsPerChunk = 16;  // rows of 2x2 blocks per thread-pool chunk
}  // namespace

void rgb_to_i420_cpu(const RgbToI420Args& a) {
  const int block_rows = a.height / 2;
  parallel_for(static_cast<int64_t>(a.images) * block_rows, kBlockRowsPerChunk, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row)
      for (int bx = 0; bx < a.width / 2; ++bx)
        i420_block(a, static_cast<int>(row / block_rows), static_cast<int>(row % block_rows), bx);
  });
}

}  // namespace splatcast
