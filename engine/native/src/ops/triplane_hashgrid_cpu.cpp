#include <cmath>
#include <stdexcept>
#include <string>

#include "triplane_hashgrid_math.h"

namespace splatcast {

HashgridLayout make_hashgrid_layout(const HashgridConfig& c) {
  if (c.levels < 1 || c.levels > kMaxHashLevels)
    throw std::invalid_argument("hashgrid levels must be 1.." + std::to_string(kMaxHashLevels));
  if (c.features < 1 || c.features > 8) throw std::invalid_argument("hashgrid features must be 1..8");
  if (c.log2_table < 4 || c.log2_table > 24) throw std::invalid_argument("hashgrid log2_table must be 4..24");
  if (!(c.base_resolution >= 2.f) || !(c.max_resolution >= c.base_resolution))
    throw std::invalid_argument("hashgrid resolutions must satisfy 2 <= base <= max");
  if (!(c.bound > 0.f)) throw std::invalid_argument("hashgrid bound must be > 0");
  HashgridLayout L{};
  L.levels = c.levels;
  L.features = c.features;
  L.bound = c.bound;
  const double growth =
      c.levels > 1 ? std::exp((std::log(c.max_resolution) - std::log(c.base_resolution)) / (c.levels - 1)) : 1.0;
  const uint64_t table = 1ull << c.log2_table;
  L.offset[0] = 0;
  for (int l = 0; l < c.levels; ++l) {
    double scale = c.base_resolution * std::pow(growth, l) - 1.0;
    L.scale[l] = static_cast<float>(scale);
    uint64_t res = static_cast<uint64_t>(std::ceil(scale)) + 2;
    L.resolution[l] = static_cast<uint32_t>(res);
    L.entries[l] = static_cast<uint32_t>(res * res < table ? res * res : table);
    L.offset[l + 1] = L.offset[l] + L.entries[l];
  }
  return L;
}

void triplane_hashgrid_forward_cpu(const TriplaneHashgridArgs& a) {
  const int dim = a.layout.output_dim();
  for (int s = 0; s < a.seg.count; ++s) {
    const float* table = a.tables.at[s];
    for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) {
      const float* p = a.xyz + static_cast<size_t>(row) * 3;
      triplane_hashgrid_point(a.layout, table, p[0], p[1], p[2], a.out + static_cast<size_t>(row) * dim);
    }
  }
}

}  // namespace splatcast
