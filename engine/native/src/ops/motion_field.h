// Fused decoders of InsTaG's two motion fields, one Gaussian per row. Inputs per row: h, the row's hash-grid
// features (G of them); per segment: the attended audio code (C = codeDim) and the face's expression signals (E) or
// the mouth's hook. Every network is an MLP with the weight layout of mlp.h, one tensor per identity.
//
// Face:
//   a'    = audio[seg] * audioAttention(h)                        elementwise; the attention output is used as is
//   e_enc = [expressionEncoder(expression[seg][0 .. E-2]), expression[seg][E-1]]   the last signal (blink) passes
//   e'    = e_enc * relu(expressionAttention(h))
//   out [rows, decoder.output] = decoder([h, a', e'])             (d_xyz 3, d_rotation 4, d_opacity 1, d_scale 3)
// e_enc depends on the segment only: it is computed once per segment (CPU) or per block (CUDA), not per row.
//
// Mouth (hook = max, min and range of the face displacement, per segment):
//   a'    = audio[seg] * audioAttention(h)
//   d     = decoder([h, a', hook[seg]])
//   tau_M = 2 * sigmoid(hookScaler([h, hook[seg]]))
//   out [rows, 3] = d[0 .. 2] * tau_M
// tau_M is a gate in (0, 2), 1 at a zero logit: it ties the mouth's motion scale to how far the lips open (the hook)
// while staying bounded and positive, so an extreme hook can neither blow the mouth motion up nor flip its sign.
//
// The displacement scale (1e-2) and the aligner's scale are applied later by the deform op, not here.
#pragma once
#include "mlp.h"

namespace splatcast {

constexpr int kHookDim = 3;  // max, min, range

struct FaceMotionLayout {
  MlpLayout audio_attention;       // G -> C
  MlpLayout expression_attention;  // G -> E
  MlpLayout expression_encoder;    // E - 1 -> E - 1
  MlpLayout decoder;               // G + C + E -> deformation
  int grid_dim, code_dim, expression_dim;
};

struct MouthMotionLayout {
  MlpLayout audio_attention;  // G -> C
  MlpLayout decoder;          // G + C + 3 -> at least 3 (d_xyz first)
  MlpLayout hook_scaler;      // G + 3 -> 1
  int grid_dim, code_dim;
};

// Take G, C and E from the attention networks and check every other width against them (std::invalid_argument).
FaceMotionLayout make_face_motion_layout(const MlpLayout& audio_attention, const MlpLayout& expression_attention,
                                         const MlpLayout& expression_encoder, const MlpLayout& decoder);
MouthMotionLayout make_mouth_motion_layout(const MlpLayout& audio_attention, const MlpLayout& decoder,
                                           const MlpLayout& hook_scaler);

struct FaceMotionArgs {
  Segments seg;
  FaceMotionLayout layout;
  const float* h;           // [rows, G]
  const float* audio;       // [segments, C]
  const float* expression;  // [segments, E]
  PerSegment<const float*> audio_attention, expression_attention, expression_encoder, decoder;  // raw weights
  float* out;               // [rows, decoder.output]
};

struct MouthMotionArgs {
  Segments seg;
  MouthMotionLayout layout;
  const float* h;      // [rows, G]
  const float* audio;  // [segments, C]
  const float* hook;   // [segments, 3]
  PerSegment<const float*> audio_attention, decoder, hook_scaler;  // raw weights
  float* out;          // [rows, 3]
};

void face_motion_forward_cpu(const FaceMotionArgs& args);
void face_motion_forward_cuda(const FaceMotionArgs& args);
void mouth_motion_forward_cpu(const MouthMotionArgs& args);
void mouth_motion_forward_cuda(const MouthMotionArgs& args);

}  // namespace splatcast
