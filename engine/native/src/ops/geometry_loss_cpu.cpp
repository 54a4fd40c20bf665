#include <vector>

#include "../core/parallel.h"
#include "geometry_loss.h"

namespace splatcast {

void geometry_loss_cpu(const GeometryLossArgs& g) {
  // Statistics per row, summed in row order in double: the result does not depend on the thread count.
  std::vector<double> rows(static_cast<size_t>(g.height) * kGeometrySums, 0.0);
  parallel_for(g.height, 8, [&](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y)
      for (int x = 0; x < g.width; ++x)
        geometry_stats_at(g, x, static_cast<int>(y), rows.data() + static_cast<size_t>(y) * kGeometrySums);
  });
  double total[kGeometrySums] = {};
  for (int32_t y = 0; y < g.height; ++y)
    for (int k = 0; k < kGeometrySums; ++k) total[k] += rows[static_cast<size_t>(y) * kGeometrySums + k];
  for (int k = 0; k < kGeometrySums; ++k) g.sums[k] = total[k];
  const GeoDepthTerm dt = geo_depth_term(g);
  const float normal_scale = total[kGM] > 0 ? g.weight_normal / static_cast<float>(total[kGM]) : 0.f;
  g.loss[0] = dt.loss;
  g.loss[1] = static_cast<float>(total[kGM] > 0 ? g.weight_normal * total[kGL] / total[kGM] : 0.0);
  if (!g.grad_depth) return;
  parallel_for(g.height, 8, [&](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y)
      for (int x = 0; x < g.width; ++x) geometry_grad_at(g, dt, normal_scale, x, static_cast<int>(y));
  });
}

}  // namespace splatcast
