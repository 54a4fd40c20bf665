// Arithmetic of AudioNet and AudioAttNet, shared verbatim by the CPU twins and the CUDA kernels. Layer functions
// compute all outputs of a layer, thread `first` of `step` doing its share (the CPU passes 0 and 1).
#pragma once
#include <cmath>

#include "audio_net.h"

namespace splatcast {

// Largest activation of a layer: AudioNet's first convolution (32 channels x 8 steps), AudioAttNet's (16 x F).
constexpr int kAudioNetScratch = 32 * kAudioWindow / 2;
constexpr int kAudioAttNetScratch = 16 * kMaxAttentionFrames;

SC_HD inline float leaky_relu(float v) { return v > 0.f ? v : 0.02f * v; }

// Output channel o at step t of a kernel-3, padding-1 convolution (taps falling in the padding are skipped).
SC_HD inline float conv1d_k3(const ConvLayer& c, const float* params, const float* x, int o, int t) {
  const int t0 = t * c.stride - 1;  // input step under tap 0
  const int k_lo = t0 < 0 ? -t0 : 0;
  const int k_hi = c.tin - t0 < 3 ? c.tin - t0 : 3;
  const float* w = params + c.weight + o * c.cin * 3;
  float acc = params[c.bias + o];
  for (int ch = 0; ch < c.cin; ++ch)
    for (int k = k_lo; k < k_hi; ++k) acc += w[ch * 3 + k] * x[(t0 + k) * c.cin + ch];
  return acc;
}

SC_HD inline void conv1d_k3_layer(const ConvLayer& c, const float* params, const float* x, float* y, int first,
                                  int step) {
  for (int e = first; e < c.cout * c.tout; e += step) {
    const int t = e / c.cout, o = e - t * c.cout;
    y[e] = leaky_relu(conv1d_k3(c, params, x, o, t));
  }
}

SC_HD inline void dense_layer(const DenseLayer& d, const float* params, const float* x, float* y, bool leaky,
                              int first, int step) {
  for (int o = first; o < d.out; o += step) {
    const float* w = params + d.weight + o * d.in;
    float acc = params[d.bias + o];
    for (int i = 0; i < d.in; ++i) acc += w[i] * x[i];
    y[o] = leaky ? leaky_relu(acc) : acc;
  }
}

// AudioAttNet's frame weights from its F logits: Linear(F, F), then a softmax (max subtracted for range).
// One thread evaluates it: F <= 32.
SC_HD inline void attention_weights(const AudioAttNetLayout& L, const float* params, const float* logits,
                                    float* weights) {
  dense_layer(L.linear, params, logits, weights, false, 0, 1);
  float top = weights[0];
  for (int f = 1; f < L.frames; ++f) top = fmaxf(top, weights[f]);
  float sum = 0.f;
  for (int f = 0; f < L.frames; ++f) {
    weights[f] = expf(weights[f] - top);
    sum += weights[f];
  }
  const float inv = 1.f / sum;
  for (int f = 0; f < L.frames; ++f) weights[f] *= inv;
}

// out[c] = sum_f w_f * codes[f][c].
SC_HD inline void attend(const AudioAttNetLayout& L, const float* codes, const float* weights, float* out, int first,
                         int step) {
  for (int c = first; c < L.code_dim; c += step) {
    float acc = 0.f;
    for (int f = 0; f < L.frames; ++f) acc += weights[f] * codes[f * L.code_dim + c];
    out[c] = acc;
  }
}

}  // namespace splatcast
