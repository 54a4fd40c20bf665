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

}  // namespace splatcast
