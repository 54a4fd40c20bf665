#include <vector>

#include "../core/parallel.h"
#include "adam.h"

namespace splatcast {

void adam_step_cpu(const AdamArgs& a) {
  parallel_for(a.n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) adam_update(a, i);
  });
}

// Chunk partial sums in double, added in chunk order: the same result for any thread count.
void squared_norm_cpu(const SquaredNormArgs& a) {
  constexpr int64_t kChunk = 1 << 16;
  const int64_t chunks = (a.n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double sum = 0.0;
      const int64_t end = (c + 1) * kChunk < a.n ? (c + 1) * kChunk : a.n;
      for (int64_t i = c * kChunk; i < end; ++i) sum += static_cast<double>(a.x[i]) * a.x[i];
      partial[static_cast<size_t>(c)] = sum;
    }
  });
  double total = 0.0;
  for (double p : partial) total += p;
  *a.out = total;
}

}  // namespace splatcast
