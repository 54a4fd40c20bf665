#include "../core/parallel.h"
#include "densify_stats.h"

namespace splatcast {

void densify_stats_cpu(const DensifyStatsArgs& a) {
  parallel_for(a.n, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) densify_stats_at(a, i);
  });
}

}  // namespace splatcast
