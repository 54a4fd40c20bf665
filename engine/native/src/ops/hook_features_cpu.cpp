#include <algorithm>
#include <cmath>

#include "../core/parallel.h"
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

// The top lists of segment s: its largest values and its largest negated values.
void segment_top_lists(const Segments& seg, const float* displacement, int s, TopK& highest, TopK& lowest) {
  for (int32_t row = seg.offset[s]; row < seg.offset[s + 1]; ++row) {
    float y = displacement[static_cast<size_t>(row) * 3 + 1];
    highest.insert(y);
    lowest.insert(-y);
  }
}
}  // namespace

void hook_features_cpu(const HookFeaturesArgs& a) {
  for (int s = 0; s < a.seg.count; ++s) {
    TopK highest, lowest;
    segment_top_lists(a.seg, a.displacement, s, highest, lowest);
    hook_cues(highest.v, lowest.v, std::min(a.top_k, a.seg.rows_of(s)), a.out + static_cast<size_t>(s) * 3);
  }
}

// Segments in parallel (each writes only its rows); rows in order within one, counting ties as the GPU does.
void hook_features_backward_cpu(const HookFeaturesBackwardArgs& a) {
  parallel_for(a.seg.count, 1, [&](int64_t begin, int64_t end) {
    for (int s = static_cast<int>(begin); s < end; ++s) {
      const int n = std::min(a.top_k, a.seg.rows_of(s));
      if (n == 0) continue;
      TopK highest, lowest;
      segment_top_lists(a.seg, a.displacement, s, highest, lowest);
      const HookThreshold high = hook_threshold(highest.v, n), low = hook_threshold(lowest.v, n);
      const HookRowGrads g = hook_row_grads(a.grad_out + static_cast<size_t>(s) * 3, n);
      int high_ties = 0, low_ties = 0;
      for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) {
        const float y = a.displacement[static_cast<size_t>(row) * 3 + 1];
        float* out = a.grad_displacement + static_cast<size_t>(row) * 3;
        out[0] = out[2] = 0.f;
        out[1] = (hook_select(high, y, high_ties) ? g.high : 0.f) + (hook_select(low, -y, low_ties) ? g.low : 0.f);
        high_ties += y == high.value;
        low_ties += -y == low.value;
      }
    }
  });
}

}  // namespace splatcast
