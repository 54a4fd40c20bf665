// Backward passes of AudioNet and AudioAttNet (audio_net.h), batched over segments like the forwards.
//
// Each row's forward is recomputed (its activations are a few hundred floats) and then backpropagated layer by
// layer. Every gradient is computed in "gather" form: each weight's gradient sums over the layer's output steps,
// each input's over the outputs it fed, so threads of a CUDA block split a layer's outputs without atomics in
// shared memory, and the CPU twin runs the same functions with one thread.
//
// Gradient modes: grad_weights ACCUMULATES (the trainer zeroes it once per step; segments of one identity may pass
// the same buffer); grad_windows / grad_codes are OVERWRITTEN. CPU: per-chunk partial sums added in chunk order
// (deterministic for any thread count). CUDA: one block per row, its weight gradient added with global atomics.
//
// AudioNet's input (fixed audio features) usually needs no gradient: pass grad_windows = null. AudioAttNet's input
// gradient (dL/d codes) feeds AudioNet's backward.
#pragma once
#include "audio_net.h"

namespace splatcast {

struct AudioNetBackwardArgs {
  Segments seg;
  AudioNetLayout layout;
  const float* windows;              // [rows, 16, featureDim], the forward's input
  PerSegment<const float*> weights;  // per segment: [param_count]
  const float* grad_codes;           // [rows, codeDim]: dL/d codes
  PerSegment<float*> grad_weights;   // per segment: [param_count], accumulated
  float* grad_windows;               // [rows, 16, featureDim], overwritten; null when not needed
};

struct AudioAttNetBackwardArgs {
  Segments seg;
  AudioAttNetLayout layout;
  const float* codes;                // [rows, frames, codeDim], the forward's input
  PerSegment<const float*> weights;  // per segment: [param_count]
  const float* grad_out;             // [rows, codeDim]: dL/d out
  PerSegment<float*> grad_weights;   // per segment: [param_count], accumulated
  float* grad_codes;                 // [rows, frames, codeDim], overwritten; null when not needed
};

void audio_net_backward_cpu(const AudioNetBackwardArgs& args);
void audio_net_backward_cuda(const AudioNetBackwardArgs& args);
void audio_att_net_backward_cpu(const AudioAttNetBackwardArgs& args);
void audio_att_net_backward_cuda(const AudioAttNetBackwardArgs& args);

}  // namespace splatcast
