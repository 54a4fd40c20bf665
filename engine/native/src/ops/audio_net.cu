#include "../core/cuda_runtime.h"
#include "audio_net_math.h"

namespace splatcast {

namespace {
// A block per row: there are few rows (one window or frame stack per session-frame) but each is a chain of small
// layers, so the block's threads split every layer's outputs and activations stay in shared memory.
constexpr int kAudioNetThreads = 256;     // = AudioNet's widest layer (32 x 8)
constexpr int kAudioAttNetThreads = 128;  // = AudioAttNet's widest layer at the official F = 8 (16 x 8)

__global__ void __launch_bounds__(kAudioNetThreads) audio_net_kernel(const __grid_constant__ AudioNetArgs a) {
  __shared__ float buf_a[kAudioNetScratch], buf_b[kAudioNetScratch];
  const AudioNetLayout& L = a.layout;
  const int32_t row = blockIdx.x;
  const float* params = a.weights.at[a.seg.segment_of(row)];
  const int first = threadIdx.x, step = blockDim.x;
  conv1d_k3_layer(L.conv[0], params, a.windows + static_cast<size_t>(row) * kAudioWindow * L.feature_dim, buf_a,
                  first, step);
  __syncthreads();
  conv1d_k3_layer(L.conv[1], params, buf_a, buf_b, first, step);
  __syncthreads();
  conv1d_k3_layer(L.conv[2], params, buf_b, buf_a, first, step);
  __syncthreads();
  conv1d_k3_layer(L.conv[3], params, buf_a, buf_b, first, step);
  __syncthreads();
  dense_layer(L.fc[0], params, buf_b, buf_a, true, first, step);
  __syncthreads();
  dense_layer(L.fc[1], params, buf_a, a.codes + static_cast<size_t>(row) * L.code_dim, false, first, step);
}

__global__ void __launch_bounds__(kAudioAttNetThreads) audio_att_net_kernel(const __grid_constant__ AudioAttNetArgs a) {
  __shared__ float buf_a[kAudioAttNetScratch], buf_b[kAudioAttNetScratch];
  const AudioAttNetLayout& L = a.layout;
  const int32_t row = blockIdx.x;
  const float* params = a.weights.at[a.seg.segment_of(row)];
  const float* codes = a.codes + static_cast<size_t>(row) * L.frames * L.code_dim;
  const int first = threadIdx.x, step = blockDim.x;
  conv1d_k3_layer(L.conv[0], params, codes, buf_a, first, step);
  __syncthreads();
  conv1d_k3_layer(L.conv[1], params, buf_a, buf_b, first, step);
  __syncthreads();
  conv1d_k3_layer(L.conv[2], params, buf_b, buf_a, first, step);
  __syncthreads();
  conv1d_k3_layer(L.conv[3], params, buf_a, buf_b, first, step);
  __syncthreads();
  conv1d_k3_layer(L.conv[4], params, buf_b, buf_a, first, step);  // F logits
  __syncthreads();
  if (threadIdx.x == 0) attention_weights(L, params, buf_a, buf_b);
  __syncthreads();
  attend(L, codes, buf_b, a.out + static_cast<size_t>(row) * L.code_dim, first, step);
}
}  // namespace

void audio_net_forward_cuda(const AudioNetArgs& a) {
  if (a.seg.rows() == 0) return;
  audio_net_kernel<<<a.seg.rows(), kAudioNetThreads>>>(a);
  cuda::check_launch("audio_net_forward");
}

void audio_att_net_forward_cuda(const AudioAttNetArgs& a) {
  if (a.seg.rows() == 0) return;
  audio_att_net_kernel<<<a.seg.rows(), kAudioAttNetThreads>>>(a);
  cuda::check_launch("audio_att_net_forward");
}

}  // namespace splatcast
