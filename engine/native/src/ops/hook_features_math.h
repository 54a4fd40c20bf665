// The cue arithmetic of the hook, shared verbatim by the CPU twin and the CUDA kernel. Selection differs by
// backend (a sorted list on the CPU, warp-wide lists on the GPU) but yields the same exact values. The smallest
// values are selected as the largest of their negations, so one descending list type serves both cues.
#pragma once
#include "hook_features.h"

namespace splatcast {

// Mean of the first n entries of a descending list (n = min(k, rows) >= 0), summed largest first.
SC_HD inline float topk_mean(const float* descending, int n) {
  if (n == 0) return 0.f;
  float sum = 0.f;
  for (int i = 0; i < n; ++i) sum += descending[i];
  return sum / static_cast<float>(n);
}

SC_HD inline void hook_cues(const float* highest, const float* negated_lowest, int n, float* out) {
  float max_cue = topk_mean(highest, n);
  float min_cue = -topk_mean(negated_lowest, n);
  out[0] = max_cue;
  out[1] = min_cue;
  out[2] = max_cue - min_cue;
}

// --- Backward ---

// The n-th entry of a descending top list (`value`) and how many rows equal to it are selected (`quota`): the
// entries before it that are strictly larger are selected whatever their row.
struct HookThreshold {
  float value;
  int quota;
};

SC_HD inline HookThreshold hook_threshold(const float* descending, int n) {
  HookThreshold t{descending[n - 1], n};
  for (int i = 0; i < n; ++i)
    if (descending[i] > t.value) --t.quota;
  return t;
}

// Whether a row of value v is selected, with `ties_before` rows of value t.value before it in row order.
SC_HD inline bool hook_select(const HookThreshold& t, float v, int ties_before) {
  return v > t.value || (v == t.value && ties_before < t.quota);
}

// The gradient a selected row gets from the max cue (high) and from the min cue (low); the range counts in both.
struct HookRowGrads {
  float high, low;
};

SC_HD inline HookRowGrads hook_row_grads(const float* grad_out, int n) {
  const float inv = 1.f / static_cast<float>(n);
  return {(grad_out[0] + grad_out[2]) * inv, (grad_out[1] - grad_out[2]) * inv};
}

}  // namespace splatcast
