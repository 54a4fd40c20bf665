#include <stdexcept>
#include <string>

#include "../core/parallel.h"
#include "audio_net_math.h"

namespace splatcast {

namespace {
constexpr int64_t kRowsPerChunk = 4;  // windows per thread-pool chunk: one costs ~0.1 ms

// Hands out consecutive ranges of the packed weights, in layer order.
struct Packer {
  int next = 0;
  ConvLayer conv(int cin, int cout, int tin, int stride) {
    ConvLayer c{cin, cout, tin, (tin - 1) / stride + 1, stride, next, next + cout * cin * 3};
    next = c.bias + cout;
    return c;
  }
  DenseLayer dense(int in, int out) {
    DenseLayer d{in, out, next, next + out * in};
    next = d.bias + out;
    return d;
  }
};

void check_range(const char* what, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw std::invalid_argument(std::string(what) + " must be " + std::to_string(lo) + ".." + std::to_string(hi) +
                                ", got " + std::to_string(value));
}
}  // namespace

AudioNetLayout make_audio_net_layout(int feature_dim, int window, int code_dim) {
  if (window != kAudioWindow)
    throw std::invalid_argument("audio window must be " + std::to_string(kAudioWindow) +
                                " feature steps (AudioNet's four stride-2 convolutions reduce it to one), got " +
                                std::to_string(window));
  check_range("audio featureDim", feature_dim, 1, kMaxAudioFeatureDim);
  check_range("audio codeDim", code_dim, 1, kMaxAudioCodeDim);
  AudioNetLayout L{};
  L.feature_dim = feature_dim;
  L.code_dim = code_dim;
  Packer p;
  L.conv[0] = p.conv(feature_dim, 32, kAudioWindow, 2);
  L.conv[1] = p.conv(32, 32, L.conv[0].tout, 2);
  L.conv[2] = p.conv(32, 64, L.conv[1].tout, 2);
  L.conv[3] = p.conv(64, 64, L.conv[2].tout, 2);
  L.fc[0] = p.dense(64, 64);
  L.fc[1] = p.dense(64, code_dim);
  L.param_count = p.next;
  return L;
}

AudioAttNetLayout make_audio_att_net_layout(int frames, int code_dim) {
  check_range("attention frames", frames, 1, kMaxAttentionFrames);
  check_range("audio codeDim", code_dim, 1, kMaxAudioCodeDim);
  AudioAttNetLayout L{};
  L.frames = frames;
  L.code_dim = code_dim;
  Packer p;
  const int channels[6] = {code_dim, 16, 8, 4, 2, 1};
  for (int i = 0; i < 5; ++i) L.conv[i] = p.conv(channels[i], channels[i + 1], frames, 1);
  L.linear = p.dense(frames, frames);
  L.param_count = p.next;
  return L;
}

void audio_net_forward_cpu(const AudioNetArgs& a) {
  const AudioNetLayout& L = a.layout;
  parallel_for_rows(a.seg, kRowsPerChunk, [&](int s, int32_t row) {
    const float* params = a.weights.at[s];
    float buf_a[kAudioNetScratch], buf_b[kAudioNetScratch];
    conv1d_k3_layer(L.conv[0], params, a.windows + static_cast<size_t>(row) * kAudioWindow * L.feature_dim, buf_a, 0,
                    1);
    conv1d_k3_layer(L.conv[1], params, buf_a, buf_b, 0, 1);
    conv1d_k3_layer(L.conv[2], params, buf_b, buf_a, 0, 1);
    conv1d_k3_layer(L.conv[3], params, buf_a, buf_b, 0, 1);
    dense_layer(L.fc[0], params, buf_b, buf_a, true, 0, 1);
    dense_layer(L.fc[1], params, buf_a, a.codes + static_cast<size_t>(row) * L.code_dim, false, 0, 1);
  });
}

void audio_att_net_forward_cpu(const AudioAttNetArgs& a) {
  const AudioAttNetLayout& L = a.layout;
  parallel_for_rows(a.seg, kRowsPerChunk, [&](int s, int32_t row) {
    const float* params = a.weights.at[s];
    const float* codes = a.codes + static_cast<size_t>(row) * L.frames * L.code_dim;
    float buf_a[kAudioAttNetScratch], buf_b[kAudioAttNetScratch];
    conv1d_k3_layer(L.conv[0], params, codes, buf_a, 0, 1);
    conv1d_k3_layer(L.conv[1], params, buf_a, buf_b, 0, 1);
    conv1d_k3_layer(L.conv[2], params, buf_b, buf_a, 0, 1);
    conv1d_k3_layer(L.conv[3], params, buf_a, buf_b, 0, 1);
    conv1d_k3_layer(L.conv[4], params, buf_b, buf_a, 0, 1);  // F logits
    attention_weights(L, params, buf_a, buf_b);
    attend(L, codes, buf_b, a.out + static_cast<size_t>(row) * L.code_dim, 0, 1);
  });
}

}  // namespace splatcast
