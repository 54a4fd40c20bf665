#include <vector>

#include "audio_net_backward.h"
#include "audio_net_backward_math.h"
#include "grad_chunks.h"

namespace splatcast {

namespace {
constexpr int32_t kChunkRows = 8;  // rows per partial weight gradient (grad_chunks.h); rows are few and costly
struct NoSync {
  void operator()() const {}
};
}  // namespace

void audio_net_backward_cpu(const AudioNetBackwardArgs& a) {
  const AudioNetLayout& L = a.layout;
  const size_t window = static_cast<size_t>(kAudioWindow) * L.feature_dim;
  reduce_segment_chunks(
      a.seg, kChunkRows, static_cast<size_t>(L.param_count),
      [&](int s, int32_t first, int32_t rows, float* partial) {
        float scratch[kAudioNetBackwardScratch];
        for (int32_t row = first; row < first + rows; ++row)
          audio_net_row_backward(L, a.weights.at[s], a.windows + row * window, a.grad_codes + row * L.code_dim,
                                 partial, a.grad_windows ? a.grad_windows + row * window : nullptr, scratch, 0, 1,
                                 NoSync{});
      },
      [&](int s, const float* sum) { add_into(a.grad_weights.at[s], sum, static_cast<size_t>(L.param_count)); });
}

void audio_att_net_backward_cpu(const AudioAttNetBackwardArgs& a) {
  const AudioAttNetLayout& L = a.layout;
  const size_t stack = static_cast<size_t>(L.frames) * L.code_dim;
  reduce_segment_chunks(
      a.seg, kChunkRows, static_cast<size_t>(L.param_count),
      [&](int s, int32_t first, int32_t rows, float* partial) {
        float scratch[kAudioAttNetBackwardScratch];
        for (int32_t row = first; row < first + rows; ++row)
          audio_att_net_row_backward(L, a.weights.at[s], a.codes + row * stack, a.grad_out + row * L.code_dim,
                                     partial, a.grad_codes ? a.grad_codes + row * stack : nullptr, scratch, 0, 1,
                                     NoSync{});
      },
      [&](int s, const float* sum) { add_into(a.grad_weights.at[s], sum, static_cast<size_t>(L.param_count)); });
}

}  // namespace splatcast
