#include <vector>

#include "../core/parallel.h"
#include "contrast_loss.h"

namespace splatcast {

void contrast_loss_cpu(const ContrastLossArgs& c) {
  constexpr int64_t kGrain = 16384;
  // One partial sum per fixed chunk, added in order: the result does not depend on the thread count.
  std::vector<double> partial(static_cast<size_t>((c.n + kGrain - 1) / kGrain), 0.0);
  parallel_for(c.n, kGrain, [&](int64_t begin, int64_t end) {
    double sum = 0.0;
    for (int64_t i = begin; i < end; ++i) sum += contrast_loss_at(c, i);
    partial[static_cast<size_t>(begin / kGrain)] = sum;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  c.loss[0] = static_cast<float>(total);
}

}  // namespace splatcast
