// Backward passes of the fused motion-field decoders (motion_field.h), batched over segments like the forwards.
// Activations are recomputed one tile of rows at a time, as in the MLP backward (mlp_backward.h says why).
//
// Face, with x = [h, a', e'] the decoder input: dL/d x from the decoder's backward; then
//   a' = audio * att_a:        d audio[seg] += d a' * att_a (summed over the segment's rows), d att_a = d a' * audio
//   e' = e_enc * relu(att_e):  d e_enc += d e' * relu(att_e) (summed), d att_e = d e' * e_enc where att_e > 0
//   and h collects the decoder's, the audio attention's and the expression attention's input gradients.
// e_enc's summed gradient goes through the expression encoder once per segment (to its weights and expression[seg]
// [0 .. E-2]); expression[seg][E-1] passes as is.
//
// Mouth, with tau = 2 sigmoid(logit): d d[k] = d out[k] * tau (k < 3; the decoder's other outputs get none),
//   d logit = sum_k d out[k] * d[k] * tau (1 - tau / 2); the hook collects the decoder's and the hook scaler's
//   input gradients (summed over the segment's rows), h every network's.
//
// Gradient modes: each network's weight gradient ACCUMULATES (per segment; segments of one identity may share the
// buffers); grad_h (per row) and the per-segment input gradients grad_audio, grad_expression, grad_hook (each the
// sum over the segment's rows) are OVERWRITTEN. Null skips an optional gradient. The CUDA face pass also uses
// grad_expression to sum e_enc's gradient between its two kernels, so it is required.
#pragma once
#include <cmath>

#include "motion_field.h"

namespace splatcast {

struct FaceMotionBackwardArgs {
  Segments seg;
  FaceMotionLayout layout;
  const float* h;           // [rows, G]
  const float* audio;       // [segments, C]
  const float* expression;  // [segments, E]
  PerSegment<const float*> audio_attention, expression_attention, expression_encoder, decoder;  // raw weights
  const float* grad_out;    // [rows, decoder.output]: dL/d out
  PerSegment<float*> grad_audio_attention, grad_expression_attention, grad_expression_encoder, grad_decoder;
  float* grad_h;            // [rows, G] or null
  float* grad_audio;        // [segments, C] or null
  float* grad_expression;   // [segments, E]
};

struct MouthMotionBackwardArgs {
  Segments seg;
  MouthMotionLayout layout;
  const float* h;      // [rows, G]
  const float* audio;  // [segments, C]
  const float* hook;   // [segments, 3]
  PerSegment<const float*> audio_attention, decoder, hook_scaler;  // raw weights
  const float* grad_out;  // [rows, 3]: dL/d out
  PerSegment<float*> grad_audio_attention, grad_decoder, grad_hook_scaler;
  float* grad_h;          // [rows, G] or null
  float* grad_audio;      // [segments, C] or null
  float* grad_hook;       // [segments, 3] or null
};

void face_motion_backward_cpu(const FaceMotionBackwardArgs& args);
void face_motion_backward_cuda(const FaceMotionBackwardArgs& args);
void mouth_motion_backward_cpu(const MouthMotionBackwardArgs& args);
void mouth_motion_backward_cuda(const MouthMotionBackwardArgs& args);

// The mouth gate as mouth_motion_row computes it, and d tau / d logit = 2 sigmoid (1 - sigmoid) in terms of tau.
SC_HD inline float hook_gate(float logit) { return 2.f / (1.f + expf(-logit)); }
SC_HD inline float hook_gate_grad(float tau) { return tau * (1.f - 0.5f * tau); }

}  // namespace splatcast
