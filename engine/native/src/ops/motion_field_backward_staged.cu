// The CUDA entry points of the motion-field backward passes. By default they stage the inputs on the host, run the
// CPU twin and upload the gradients: the fused kernels (motion_field_backward.cu) fault with an illegal address on
// the H200 (compute-sanitizer: a shared-tile read in the first attention forward of the face kernel), which is not
// yet understood, and a correct gradient comes first. SPLATCAST_CUDA_MOTION_BACKWARD=kernel runs the kernels (the
// GPU parity test does). Cost: one round trip of ~14 MB per call for 40k face rows.
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "../core/cuda_runtime.h"
#include "motion_field_backward.h"

namespace splatcast {

namespace {
bool use_kernels() {
  const char* v = std::getenv("SPLATCAST_CUDA_MOTION_BACKWARD");
  return v && std::strcmp(v, "kernel") == 0;
}

// Host copies of device buffers, one per distinct device pointer (segments of one identity share weights and
// gradient buffers: the CPU twin must see them shared too), uploaded back where they are gradients.
class Staging {
 public:
  const float* in(const float* device, size_t n) { return device ? copy(const_cast<float*>(device), n, true) : nullptr; }
  // A gradient buffer: downloaded when it accumulates, uploaded after the CPU pass.
  float* out(float* device, size_t n, bool accumulates) {
    if (!device) return nullptr;
    float* host = copy(device, n, accumulates);
    outputs_[device] = n;
    return host;
  }
  template <typename T>
  PerSegment<const T*> in(const PerSegment<const T*>& table, int count, size_t n) {
    PerSegment<const T*> host = table;
    for (int s = 0; s < count; ++s) host.at[s] = in(table.at[s], n);
    return host;
  }
  PerSegment<float*> out(const PerSegment<float*>& table, int count, size_t n) {
    PerSegment<float*> host = table;
    for (int s = 0; s < count; ++s) host.at[s] = out(table.at[s], n, true);
    return host;
  }
  void upload() {
    for (const auto& [device, n] : outputs_) cuda::upload(device, copies_[device].data(), n * sizeof(float));
  }

 private:
  float* copy(float* device, size_t n, bool download) {
    auto it = copies_.find(device);
    if (it == copies_.end()) {
      it = copies_.emplace(device, std::vector<float>(n)).first;
      if (download) cuda::download(it->second.data(), device, n * sizeof(float));
    }
    return it->second.data();
  }
  std::map<float*, std::vector<float>> copies_;
  std::map<float*, size_t> outputs_;
};
}  // namespace

void face_motion_backward_cuda(const FaceMotionBackwardArgs& a) {
  if (use_kernels()) return face_motion_backward_kernels(a);
  const FaceMotionLayout& L = a.layout;
  const size_t rows = a.seg.rows(), S = a.seg.count, G = L.grid_dim, C = L.code_dim, E = L.expression_dim;
  Staging st;
  FaceMotionBackwardArgs h = a;
  h.h = st.in(a.h, rows * G);
  h.audio = st.in(a.audio, S * C);
  h.expression = st.in(a.expression, S * E);
  h.grad_out = st.in(a.grad_out, rows * L.decoder.output());
  h.audio_attention = st.in(a.audio_attention, a.seg.count, L.audio_attention.param_count());
  h.expression_attention = st.in(a.expression_attention, a.seg.count, L.expression_attention.param_count());
  h.expression_encoder = st.in(a.expression_encoder, a.seg.count, L.expression_encoder.param_count());
  h.decoder = st.in(a.decoder, a.seg.count, L.decoder.param_count());
  h.grad_audio_attention = st.out(a.grad_audio_attention, a.seg.count, L.audio_attention.param_count());
  h.grad_expression_attention = st.out(a.grad_expression_attention, a.seg.count, L.expression_attention.param_count());
  h.grad_expression_encoder = st.out(a.grad_expression_encoder, a.seg.count, L.expression_encoder.param_count());
  h.grad_decoder = st.out(a.grad_decoder, a.seg.count, L.decoder.param_count());
  h.grad_h = st.out(a.grad_h, rows * G, false);
  h.grad_audio = st.out(a.grad_audio, S * C, false);
  h.grad_expression = st.out(a.grad_expression, S * E, false);
  face_motion_backward_cpu(h);
  st.upload();
}

void mouth_motion_backward_cuda(const MouthMotionBackwardArgs& a) {
  if (use_kernels()) return mouth_motion_backward_kernels(a);
  const MouthMotionLayout& L = a.layout;
  const size_t rows = a.seg.rows(), S = a.seg.count, G = L.grid_dim, C = L.code_dim;
  Staging st;
  MouthMotionBackwardArgs h = a;
  h.h = st.in(a.h, rows * G);
  h.audio = st.in(a.audio, S * C);
  h.hook = st.in(a.hook, S * kHookDim);
  h.grad_out = st.in(a.grad_out, rows * kHookDim);
  h.audio_attention = st.in(a.audio_attention, a.seg.count, L.audio_attention.param_count());
  h.decoder = st.in(a.decoder, a.seg.count, L.decoder.param_count());
  h.hook_scaler = st.in(a.hook_scaler, a.seg.count, L.hook_scaler.param_count());
  h.grad_audio_attention = st.out(a.grad_audio_attention, a.seg.count, L.audio_attention.param_count());
  h.grad_decoder = st.out(a.grad_decoder, a.seg.count, L.decoder.param_count());
  h.grad_hook_scaler = st.out(a.grad_hook_scaler, a.seg.count, L.hook_scaler.param_count());
  h.grad_h = st.out(a.grad_h, rows * G, false);
  h.grad_audio = st.out(a.grad_audio, S * C, false);
  h.grad_hook = st.out(a.grad_hook, S * kHookDim, false);
  mouth_motion_backward_cpu(h);
  st.upload();
}

}  // namespace splatcast
