#include <cstring>

#include "gaussian_deform_math.h"

namespace splatcast {

void gather_rows_cpu(const GatherRowsArgs& a) {
  for (int s = 0; s < a.seg.count; ++s) {
    if (a.seg.rows_of(s) == 0) continue;  // an empty tensor has no buffer to copy from
    std::memcpy(a.out + static_cast<size_t>(a.seg.offset[s]) * a.columns, a.sources.at[s],
                static_cast<size_t>(a.seg.rows_of(s)) * a.columns * sizeof(float));
  }
}

void aligner_apply_cpu(const AlignerApplyArgs& a) {
  for (int s = 0; s < a.seg.count; ++s)
    for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) aligner_row(a, s, row);
}

void deform_gaussians_cpu(const DeformGaussiansArgs& a) {
  for (int s = 0; s < a.seg.count; ++s)
    for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) deform_row(a, s, row);
}

}  // namespace splatcast
