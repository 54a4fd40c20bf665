// Per-row arithmetic of the fused motion-field decoders, shared verbatim by the CPU twins and the CUDA kernels.
// Weight pointers are staged copies (mlp_stage). `x` is the row's decoder input vector (decoder.input elements) with
// h already in x[0 .. G); `a` and `b` are MLP scratch vectors (see mlp_row).
#pragma once
#include "mlp_math.h"
#include "motion_field.h"

namespace splatcast {

struct FaceStaged {
  const float* audio_attention;
  const float* expression_attention;
  const float* expression_encoder;
  const float* decoder;
};

struct MouthStaged {
  const float* audio_attention;
  const float* decoder;
  const float* hook_scaler;
};

// e_enc of a face segment into code[0 .. E): the encoder over all signals but the last, then the last as is.
SC_HD inline void face_expression_code(const FaceMotionLayout& L, const FaceStaged& w, const float* expression,
                                       float* code, RowVector<float> a, RowVector<float> b) {
  const int E = L.expression_dim;
  RowVector<float> y = mlp_row(L.expression_encoder, w.expression_encoder, {expression, 1}, a, b);
  for (int e = 0; e + 1 < E; ++e) code[e] = y[e];
  code[E - 1] = expression[E - 1];
}

// Returns the decoder output (decoder.output elements). `audio` is the segment's code [C], `code` its e_enc [E].
SC_HD inline RowVector<float> face_motion_row(const FaceMotionLayout& L, const FaceStaged& w, const float* audio,
                                              const float* code, RowVector<float> x, RowVector<float> a,
                                              RowVector<float> b) {
  const int G = L.grid_dim, C = L.code_dim, E = L.expression_dim;
  RowVector<float> att = mlp_row(L.audio_attention, w.audio_attention, x, a, b);
  for (int c = 0; c < C; ++c) x[G + c] = audio[c] * att[c];
  att = mlp_row(L.expression_attention, w.expression_attention, x, a, b);
  for (int e = 0; e < E; ++e) x[G + C + e] = code[e] * fmaxf(att[e], 0.f);
  return mlp_row(L.decoder, w.decoder, x, a, b);
}

// Writes the row's three outputs to out[0 .. 3). `audio` is the segment's code [C], `hook` its hook [3].
SC_HD inline void mouth_motion_row(const MouthMotionLayout& L, const MouthStaged& w, const float* audio,
                                   const float* hook, RowVector<float> x, RowVector<float> a, RowVector<float> b,
                                   float* out) {
  const int G = L.grid_dim, C = L.code_dim;
  // The hook scaler runs first, while x holds [h, hook]; then x is rebuilt in place as [h, a', hook].
  for (int k = 0; k < kHookDim; ++k) x[G + k] = hook[k];
  const float logit = mlp_row(L.hook_scaler, w.hook_scaler, x, a, b)[0];
  const float tau = 2.f / (1.f + expf(-logit));
  for (int k = 0; k < kHookDim; ++k) x[G + C + k] = hook[k];
  RowVector<float> att = mlp_row(L.audio_attention, w.audio_attention, x, a, b);
  for (int c = 0; c < C; ++c) x[G + c] = audio[c] * att[c];
  RowVector<float> d = mlp_row(L.decoder, w.decoder, x, a, b);
  for (int k = 0; k < kHookDim; ++k) out[k] = d[k] * tau;
}

}  // namespace splatcast
