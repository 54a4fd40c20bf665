#include <algorithm>
#include <cmath>

#include "hook_features_math.h"

namespace splatcast {

namespace {
// The kMaxHookTopK largest values seen, descending; unfilled slots hold -inf.
struct TopK {
  float v[kMaxHookTopK];
  TopK() { std::fill(v, v + kMaxHookTopK, -INFINITY); }
  void insert(float x) {
    if (!(x > v[kMaxHookTopK - 1])) return;
    int i = kMaxHookTopK - 1;
    for (; i > 0 && x > v[i - 1]; --i) v[i] = v[i - 1];
    v[i] = x;
  }
};
}  // namespace

void hook_features_cpu(const HookFeaturesArgs& a) {
  for (int s = 0; s < a.seg.count; ++s) {
    TopK highest, lowest;
    for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) {
      float y = a.displacement[static_cast<size_t>(row) * 3 + 1];
      highest.insert(y);
      lowest.insert(-y);
    }
    hook_cues(highest.v, lowest.v, std::min(a.top_k, a.seg.rows_of(s)), a.out + static_cast<size_t>(s) * 3);
  }
}

}  // namespace splatcast
