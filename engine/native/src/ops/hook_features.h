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

}  // namespace splatcast
