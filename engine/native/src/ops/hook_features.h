// The mouth field's "hook" (InsTaG): per segment, cues from the face's vertical displacement of the same frame.
// Over the segment's rows of displacement[:, 1]: max cue = mean of the k largest values, min cue = mean of the k
// smallest, range = max cue - min cue. A segment with fewer than k rows averages all of them; one with no rows
// gets zeros. Both backends find the exact top-k values and sum them in the same (descending) order, so they agree
// bit for bit up to the final division.
#pragma once
#include "../core/segments.h"

namespace splatcast {

// The CUDA kernel keeps a warp's candidate list one value per lane (official k: 10).
constexpr int kMaxHookTopK = 32;

struct HookFeaturesArgs {
  Segments seg;
  int32_t top_k;              // 1..kMaxHookTopK
  const float* displacement;  // [rows, 3]
  float* out;                 // [seg.count, 3]: max cue, min cue, range
};

void hook_features_cpu(const HookFeaturesArgs& args);
void hook_features_cuda(const HookFeaturesArgs& args);

// Backward: dL/d max cue goes to the rows whose values the max cue averaged, 1/n each, dL/d min cue likewise, and
// dL/d range to both (+ and -). The selection is the forward's: the n = min(k, rows) largest values, and among rows
// of equal value the earlier row first (the CPU's insertion order; the GPU sums the same values). grad_displacement
// is OVERWRITTEN: column 1 of the selected rows, zero elsewhere.
struct HookFeaturesBackwardArgs {
  Segments seg;
  int32_t top_k;
  const float* displacement;  // [rows, 3]
  const float* grad_out;      // [seg.count, 3]: dL/d (max cue, min cue, range)
  float* grad_displacement;   // [rows, 3], overwritten
};

void hook_features_backward_cpu(const HookFeaturesBackwardArgs& args);
void hook_features_backward_cuda(const HookFeaturesBackwardArgs& args);

}  // namespace splatcast
