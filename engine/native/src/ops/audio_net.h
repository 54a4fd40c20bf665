// InsTaG's audio encoders (from AD-NeRF): AudioNet turns one window of audio features into an audio code, and
// AudioAttNet smooths the codes of consecutive video frames into one. Rows are segmented like every op: one
// segment per identity-frame, weights one f32 tensor per identity (PerSegment).
//
// AudioNet: windows [rows, window = 16, featureDim] (time-major: a step's features are contiguous) -> codes
// [rows, codeDim]. Conv1d over time, featureDim input channels, kernel 3, stride 2, padding 1, each followed by
// LeakyReLU(0.02): featureDim -> 32 (16 -> 8 steps), 32 -> 32 (8 -> 4), 32 -> 64 (4 -> 2), 64 -> 64 (2 -> 1);
// then Linear(64, 64), LeakyReLU(0.02), Linear(64, codeDim). Packed weights, in PyTorch state_dict order:
//   conv1.weight [32][featureDim][3]  conv1.bias [32]
//   conv2.weight [32][32][3]          conv2.bias [32]
//   conv3.weight [64][32][3]          conv3.bias [64]
//   conv4.weight [64][64][3]          conv4.bias [64]
//   fc1.weight   [64][64]             fc1.bias   [64]
//   fc2.weight   [codeDim][64]        fc2.bias   [codeDim]
//
// AudioAttNet: codes [rows, F, codeDim] (F = attention frames, before + 1 + after) -> [rows, codeDim].
// Conv1d over the F frames, kernel 3, stride 1, padding 1, each followed by LeakyReLU(0.02):
// codeDim -> 16 -> 8 -> 4 -> 2 -> 1 gives F logits; Linear(F, F), softmax over F gives w; out = sum_f w_f * x_f.
// Packed weights:
//   conv1.weight [16][codeDim][3] conv1.bias [16]    conv2.weight [8][16][3] conv2.bias [8]
//   conv3.weight [4][8][3]        conv3.bias [4]     conv4.weight [2][4][3]  conv4.bias [2]
//   conv5.weight [1][2][3]        conv5.bias [1]     linear.weight [F][F]    linear.bias [F]
#pragma once
#include "../core/segments.h"

namespace splatcast {

constexpr int kAudioWindow = 16;         // feature steps per AudioNet window: four stride-2 convolutions reach 1
constexpr int kMaxAudioFeatureDim = 4096;
constexpr int kMaxAudioCodeDim = 128;    // the code feeds the motion-field MLPs (max width 128)
constexpr int kMaxAttentionFrames = 32;

// A kernel-3, padding-1 Conv1d; activations are time-major ([step][channel]). Offsets index the packed weights.
struct ConvLayer {
  int cin, cout, tin, tout, stride;
  int weight, bias;
};

struct DenseLayer {
  int in, out;
  int weight, bias;
};

struct AudioNetLayout {
  int feature_dim, code_dim;
  ConvLayer conv[4];
  DenseLayer fc[2];
  int param_count;
};

struct AudioAttNetLayout {
  int frames, code_dim;
  ConvLayer conv[5];
  DenseLayer linear;
  int param_count;
};

// Validate (std::invalid_argument with the expected and received values) and compute the packed offsets.
AudioNetLayout make_audio_net_layout(int feature_dim, int window, int code_dim);
AudioAttNetLayout make_audio_att_net_layout(int frames, int code_dim);

struct AudioNetArgs {
  Segments seg;
  AudioNetLayout layout;
  const float* windows;              // [rows, 16, featureDim]
  PerSegment<const float*> weights;  // per segment: [param_count]
  float* codes;                      // [rows, codeDim]
};

struct AudioAttNetArgs {
  Segments seg;
  AudioAttNetLayout layout;
  const float* codes;                // [rows, frames, codeDim]
  PerSegment<const float*> weights;  // per segment: [param_count]
  float* out;                        // [rows, codeDim]
};

void audio_net_forward_cpu(const AudioNetArgs& args);
void audio_net_forward_cuda(const AudioNetArgs& args);
void audio_att_net_forward_cpu(const AudioAttNetArgs& args);
void audio_att_net_forward_cuda(const AudioAttNetArgs& args);

}  // namespace splatcast
