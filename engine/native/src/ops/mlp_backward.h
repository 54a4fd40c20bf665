// Backward pass of the plain MLP (mlp.h), batched over segments like the forward.
//
// Activations are recomputed, not saved: the backward re-runs the forward one tile of rows at a time (CPU: in
// cache, CUDA: in shared memory) right before backpropagating through that tile. The forward stays exactly as it is
// (no training variant, no per-frame activation buffers: the fused face field alone would keep ~330 floats per
// Gaussian), and the recompute adds one forward to a backward that costs about two (input and weight gradients).
//
// Gradient modes: grad_weights ACCUMULATES (the trainer zeroes it once per step; segments of one identity may pass
// the same buffer); grad_in is OVERWRITTEN.
//
// CPU: each segment's rows are cut into fixed chunks whose partial weight gradients are summed in chunk order, so
// results do not depend on the thread count. CUDA: one wave of blocks, each covering a run of rows of one segment;
// a block accumulates its weight gradient in shared memory and adds it to the global buffer with atomics once.
#pragma once
#include "mlp.h"

namespace splatcast {

struct MlpBackwardArgs {
  Segments seg;
  MlpLayout layout;
  const float* in;                   // [rows, input], the forward's input
  PerSegment<const float*> weights;  // per segment: [param_count]
  const float* grad_out;             // [rows, output]: dL/d out
  PerSegment<float*> grad_weights;   // per segment: [param_count], accumulated
  float* grad_in;                    // [rows, input], overwritten; null when the input needs no gradient
};

void mlp_backward_cpu(const MlpBackwardArgs& args);
void mlp_backward_cuda(const MlpBackwardArgs& args);

}  // namespace splatcast
