#include "../core/cuda_runtime.h"
#include "audio_net_backward.h"
#include "audio_net_backward_math.h"

namespace splatcast {

namespace {
// A block per row, as the forward: rows are few, each a chain of small layers whose activations fit in shared
// memory. Weight gradients reach global memory once per weight per row (atomics: rows of one identity share them).
constexpr int kThreads = 256;

struct BlockSync {
  __device__ void operator()() const { __syncthreads(); }
};

__global__ void __launch_bounds__(kThreads) audio_net_backward_kernel(const __grid_constant__ AudioNetBackwardArgs a) {
  __shared__ float scratch[kAudioNetBackwardScratch];
  const AudioNetLayout& L = a.layout;
  const int32_t row = blockIdx.x;
  const int s = a.seg.segment_of(row);
  const size_t window = static_cast<size_t>(kAudioWindow) * L.feature_dim;
  audio_net_row_backward(L, a.weights.at[s], a.windows + row * window, a.grad_codes + row * L.code_dim,
                         a.grad_weights.at[s], a.grad_windows ? a.grad_windows + row * window : nullptr, scratch,
                         threadIdx.x, blockDim.x, BlockSync{});
}

__global__ void __launch_bounds__(kThreads)
    audio_att_net_backward_kernel(const __grid_constant__ AudioAttNetBackwardArgs a) {
  __shared__ float scratch[kAudioAttNetBackwardScratch];
  const AudioAttNetLayout& L = a.layout;
  const int32_t row = blockIdx.x;
  const int s = a.seg.segment_of(row);
  const size_t stack = static_cast<size_t>(L.frames) * L.code_dim;
  audio_att_net_row_backward(L, a.weights.at[s], a.codes + row * stack, a.grad_out + row * L.code_dim,
                             a.grad_weights.at[s], a.grad_codes ? a.grad_codes + row * stack : nullptr, scratch,
                             threadIdx.x, blockDim.x, BlockSync{});
}
}  // namespace

void audio_net_backward_cuda(const AudioNetBackwardArgs& a) {
  if (a.seg.rows() == 0) return;
  audio_net_backward_kernel<<<a.seg.rows(), kThreads>>>(a);
  cuda::check_launch("audio_net_backward");
}

void audio_att_net_backward_cuda(const AudioAttNetBackwardArgs& a) {
  if (a.seg.rows() == 0) return;
  audio_att_net_backward_kernel<<<a.seg.rows(), kThreads>>>(a);
  cuda::check_launch("audio_att_net_backward");
}

}  // namespace splatcast
