// Adaptive density control's running statistics (3DGS add_densification_stats), per Gaussian over the iterations
// since the last densification: where a Gaussian was visible in a training view (screen radius > 0), its
// view-space positional gradient norm is added to `accum` and 1 to `count`, and `max_radii` keeps the largest screen
// radius. Kept on the device so a training step never waits for the host.
#pragma once
#include <cstdint>

#include "../core/common.h"

namespace splatcast {

struct DensifyStatsArgs {
  int64_t n;
  const float* grad_norm;  // [n]: the rasterizer backward's means2dGradNorm
  const float* radii;      // [n]: its screen radii, 0 where culled
  float* accum;            // [n], added to
  float* count;            // [n], added to
  float* max_radii;        // [n], max-ed
};

SC_HD inline void densify_stats_at(const DensifyStatsArgs& a, int64_t i) {
  const float r = a.radii[i];
  if (!(r > 0.f)) return;
  a.accum[i] += a.grad_norm[i];
  a.count[i] += 1.f;
  if (r > a.max_radii[i]) a.max_radii[i] = r;
}

void densify_stats_cpu(const DensifyStatsArgs& args);
void densify_stats_cuda(const DensifyStatsArgs& args);

}  // namespace splatcast
