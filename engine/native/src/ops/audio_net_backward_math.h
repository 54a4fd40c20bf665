// Arithmetic of the AudioNet / AudioAttNet backward passes, shared by the CPU twins and the CUDA kernels. Like the
// forward's layer functions, each computes all outputs of one step, thread `first` of `step` doing its share.
// Weight gradients go through add_grad: a plain add into a private partial on the CPU, a global atomic on CUDA.
#pragma once
#include "audio_net_math.h"

namespace splatcast {

SC_HD inline void add_grad(float* p, float v) {
#if defined(__CUDA_ARCH__)
  atomicAdd(p, v);
#else
  *p += v;
#endif
}

// dy holds dL/d y for y = leaky_relu(z); turns it into dL/d z in place. y > 0 exactly when z > 0 (PyTorch takes the
// slope 0.02 at z = 0).
SC_HD inline void leaky_relu_backward(const float* y, float* dy, int n, int first, int step) {
  for (int e = first; e < n; e += step)
    if (!(y[e] > 0.f)) dy[e] *= 0.02f;
}

// Weight and bias gradients of a kernel-3 convolution: dW[o][ch][k] = sum_t dz[t][o] x[t*stride - 1 + k][ch].
SC_HD inline void conv1d_k3_weight_grad(const ConvLayer& c, const float* x, const float* dz, float* grad, int first,
                                        int step) {
  const int taps = c.cout * c.cin * 3;
  for (int e = first; e < taps + c.cout; e += step) {
    float acc = 0.f;
    if (e < taps) {
      const int o = e / (c.cin * 3), ch = (e / 3) % c.cin, k = e % 3;
      for (int t = 0; t < c.tout; ++t) {
        const int ti = t * c.stride - 1 + k;
        if (ti >= 0 && ti < c.tin) acc += dz[t * c.cout + o] * x[ti * c.cin + ch];
      }
      add_grad(grad + c.weight + e, acc);
    } else {
      const int o = e - taps;
      for (int t = 0; t < c.tout; ++t) acc += dz[t * c.cout + o];
      add_grad(grad + c.bias + o, acc);
    }
  }
}

// Input gradient of a kernel-3 convolution: dx[ti][ch] = sum over taps k with ti = t*stride - 1 + k of
// sum_o W[o][ch][k] dz[t][o]. Written, or added to dx when `add`.
SC_HD inline void conv1d_k3_input_grad(const ConvLayer& c, const float* params, const float* dz, float* dx, bool add,
                                       int first, int step) {
  const float* w = params + c.weight;
  for (int e = first; e < c.tin * c.cin; e += step) {
    const int ti = e / c.cin, ch = e - ti * c.cin;
    float acc = 0.f;
    for (int k = 0; k < 3; ++k) {
      const int num = ti + 1 - k;
      if (num < 0 || num % c.stride) continue;
      const int t = num / c.stride;
      if (t >= c.tout) continue;
      for (int o = 0; o < c.cout; ++o) acc += w[(o * c.cin + ch) * 3 + k] * dz[t * c.cout + o];
    }
    dx[e] = add ? dx[e] + acc : acc;
  }
}

// Weight and bias gradients of a dense layer: dW[o][i] = dz[o] x[i], db[o] = dz[o].
SC_HD inline void dense_weight_grad(const DenseLayer& d, const float* x, const float* dz, float* grad, int first,
                                    int step) {
  for (int e = first; e < d.out * d.in + d.out; e += step) {
    if (e < d.out * d.in)
      add_grad(grad + d.weight + e, dz[e / d.in] * x[e % d.in]);
    else
      add_grad(grad + d.bias + (e - d.out * d.in), dz[e - d.out * d.in]);
  }
}

// Input gradient of a dense layer: dx[i] = sum_o W[o][i] dz[o]. Written.
SC_HD inline void dense_input_grad(const DenseLayer& d, const float* params, const float* dz, float* dx, int first,
                                   int step) {
  const float* w = params + d.weight;
  for (int i = first; i < d.in; i += step) {
    float acc = 0.f;
    for (int o = 0; o < d.out; ++o) acc += w[o * d.in + i] * dz[o];
    dx[i] = acc;
  }
}

// AudioAttNet's attention step backward, one thread (F <= 32): from dL/d w (frame weights) to dL/d z (the linear
// layer's outputs, before the softmax), in place: dz_f = w_f (dw_f - sum_g w_g dw_g).
SC_HD inline void softmax_backward(const float* w, float* dw, int frames) {
  float dot = 0.f;
  for (int f = 0; f < frames; ++f) dot += w[f] * dw[f];
  for (int f = 0; f < frames; ++f) dw[f] = w[f] * (dw[f] - dot);
}

// dL/d w_f = sum_c dout[c] codes[f][c].
SC_HD inline void attend_weight_grad(const AudioAttNetLayout& L, const float* codes, const float* dout, float* dw,
                                     int first, int step) {
  for (int f = first; f < L.frames; f += step) {
    float acc = 0.f;
    for (int c = 0; c < L.code_dim; ++c) acc += dout[c] * codes[f * L.code_dim + c];
    dw[f] = acc;
  }
}

// Per-row scratch (floats) of the two backward passes: every recomputed activation plus two gradient buffers.
constexpr int kAudioNetBackwardScratch = (32 * 8 + 32 * 4 + 64 * 2 + 64 + 64) + 2 * kAudioNetScratch;
constexpr int kAudioAttNetBackwardScratch = (16 + 8 + 4 + 2 + 1 + 2) * kMaxAttentionFrames + 2 * kAudioAttNetScratch;

// One AudioNet row: recompute the forward, then backpropagate from dcode. `sync` separates the steps (a block
// barrier on CUDA, nothing on the CPU). dwindow may be null.
template <typename Sync>
SC_HD void audio_net_row_backward(const AudioNetLayout& L, const float* params, const float* window,
                                  const float* dcode, float* grad, float* dwindow, float* scratch, int first, int step,
                                  const Sync& sync) {
  float* a0 = scratch;  // conv1 out [8][32]
  float* a1 = a0 + 32 * 8;
  float* a2 = a1 + 32 * 4;
  float* a3 = a2 + 64 * 2;
  float* f0 = a3 + 64;
  float* ga = f0 + 64;
  float* gb = ga + kAudioNetScratch;
  conv1d_k3_layer(L.conv[0], params, window, a0, first, step);
  sync();
  conv1d_k3_layer(L.conv[1], params, a0, a1, first, step);
  sync();
  conv1d_k3_layer(L.conv[2], params, a1, a2, first, step);
  sync();
  conv1d_k3_layer(L.conv[3], params, a2, a3, first, step);
  sync();
  dense_layer(L.fc[0], params, a3, f0, true, first, step);
  sync();
  // fc2 (linear out), fc1 (leaky), then the convolutions from the last to the first.
  dense_weight_grad(L.fc[1], f0, dcode, grad, first, step);
  dense_input_grad(L.fc[1], params, dcode, ga, first, step);
  sync();
  leaky_relu_backward(f0, ga, 64, first, step);
  sync();
  dense_weight_grad(L.fc[0], a3, ga, grad, first, step);
  dense_input_grad(L.fc[0], params, ga, gb, first, step);
  sync();
  const float* acts[4] = {window, a0, a1, a2};  // each convolution's input
  const float* outs[4] = {a0, a1, a2, a3};      // and output
  float* dz = gb;
  float* dx = ga;
  for (int i = 3; i >= 0; --i) {
    const ConvLayer& c = L.conv[i];
    leaky_relu_backward(outs[i], dz, c.cout * c.tout, first, step);
    sync();
    conv1d_k3_weight_grad(c, acts[i], dz, grad, first, step);
    if (i > 0) {
      conv1d_k3_input_grad(c, params, dz, dx, false, first, step);
    } else if (dwindow) {
      conv1d_k3_input_grad(c, params, dz, dwindow, false, first, step);
    }
    sync();
    float* t = dz;
    dz = dx;
    dx = t;
  }
}

// One AudioAttNet row: recompute, then backpropagate from dout. dcodes ([frames, codeDim]) may be null.
template <typename Sync>
SC_HD void audio_att_net_row_backward(const AudioAttNetLayout& L, const float* params, const float* codes,
                                      const float* dout, float* grad, float* dcodes, float* scratch, int first,
                                      int step, const Sync& sync) {
  const int F = L.frames;
  float* c[5];  // each convolution's output: 16, 8, 4, 2, 1 channels of F steps (c[4]: the logits)
  c[0] = scratch;
  c[1] = c[0] + 16 * F;
  c[2] = c[1] + 8 * F;
  c[3] = c[2] + 4 * F;
  c[4] = c[3] + 2 * F;
  float* w = c[4] + F;
  float* dw = w + F;
  float* ga = scratch + (16 + 8 + 4 + 2 + 1 + 2) * kMaxAttentionFrames;
  float* gb = ga + kAudioAttNetScratch;
  const float* in = codes;
  for (int i = 0; i < 5; ++i) {
    conv1d_k3_layer(L.conv[i], params, in, c[i], first, step);
    sync();
    in = c[i];
  }
  if (first == 0) attention_weights(L, params, c[4], w);
  sync();
  // out = sum_f w_f codes[f]: the codes' direct gradient, and the frame weights'.
  attend_weight_grad(L, codes, dout, dw, first, step);
  if (dcodes)
    for (int e = first; e < F * L.code_dim; e += step) dcodes[e] = w[e / L.code_dim] * dout[e % L.code_dim];
  sync();
  if (first == 0) softmax_backward(w, dw, F);
  sync();
  dense_weight_grad(L.linear, c[4], dw, grad, first, step);
  dense_input_grad(L.linear, params, dw, ga, first, step);
  sync();
  float* dz = ga;
  float* dx = gb;
  for (int i = 4; i >= 0; --i) {
    const ConvLayer& conv = L.conv[i];
    leaky_relu_backward(c[i], dz, conv.cout * conv.tout, first, step);
    sync();
    conv1d_k3_weight_grad(conv, i > 0 ? c[i - 1] : codes, dz, grad, first, step);
    if (i > 0) {
      conv1d_k3_input_grad(conv, params, dz, dx, false, first, step);
    } else if (dcodes) {
      conv1d_k3_input_grad(conv, params, dz, dcodes, true, first, step);
    }
    sync();
    float* t = dz;
    dz = dx;
    dx = t;
  }
}

}  // namespace splatcast
