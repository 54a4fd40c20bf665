#include "../core/cuda_runtime.h"
#include "mlp_launch.cuh"
#include "motion_field_math.h"

namespace splatcast {

namespace {
// Shared memory of both kernels: the staged networks, then (face) the block's e_enc, then three activation columns
// per row: x (the decoder input) and the MLP scratch pair.
struct Columns {
  RowVector<float> x, a, b;
};

__device__ inline Columns row_columns(float* base, int x_width, int scratch_width) {
  const int n = blockDim.x;
  float* p = base + threadIdx.x;
  return {{p, n}, {p + x_width * n, n}, {p + (x_width + scratch_width) * n, n}};
}

int face_scratch_width(const FaceMotionLayout& L) {
  int w = L.audio_attention.scratch_width();
  for (const MlpLayout* net : {&L.expression_attention, &L.expression_encoder, &L.decoder})
    w = net->scratch_width() > w ? net->scratch_width() : w;
  return w;
}

int mouth_scratch_width(const MouthMotionLayout& L) {
  int w = L.audio_attention.scratch_width();
  for (const MlpLayout* net : {&L.decoder, &L.hook_scaler}) w = net->scratch_width() > w ? net->scratch_width() : w;
  return w;
}

__device__ inline void load_h(const float* h, int G, RowVector<float> x) {
  for (int i = 0; i < G; ++i) x[i] = h[i];
}

__global__ void __launch_bounds__(kMlpMaxThreads)
    face_motion_kernel(const __grid_constant__ FaceMotionArgs a, const __grid_constant__ Segments blocks,
                       int32_t block_rows, int scratch_width) {
  extern __shared__ float4 shared4[];
  const FaceMotionLayout& L = a.layout;
  const MlpBlockRows work = mlp_block_rows(a.seg, blocks, block_rows);
  const int s = work.segment;
  float* cursor = reinterpret_cast<float*>(shared4);
  FaceStaged w;
  w.audio_attention = mlp_stage_block(L.audio_attention, a.audio_attention.at[s], cursor);
  w.expression_attention = mlp_stage_block(L.expression_attention, a.expression_attention.at[s], cursor);
  w.expression_encoder = mlp_stage_block(L.expression_encoder, a.expression_encoder.at[s], cursor);
  w.decoder = mlp_stage_block(L.decoder, a.decoder.at[s], cursor);
  float* code = cursor;
  const Columns c = row_columns(code + L.expression_dim, L.decoder.input(), scratch_width);
  __syncthreads();
  // e_enc depends on the segment only: one thread computes it for the block, in its own scratch columns.
  if (threadIdx.x == 0)
    face_expression_code(L, w, a.expression + static_cast<size_t>(s) * L.expression_dim, code, c.a, c.b);
  __syncthreads();
  const float* audio = a.audio + static_cast<size_t>(s) * L.code_dim;
  for (int32_t row = work.begin + threadIdx.x; row < work.end; row += blockDim.x) {
    load_h(a.h + static_cast<size_t>(row) * L.grid_dim, L.grid_dim, c.x);
    RowVector<float> y = face_motion_row(L, w, audio, code, c.x, c.a, c.b);
    float* out = a.out + static_cast<size_t>(row) * L.decoder.output();
    for (int j = 0; j < L.decoder.output(); ++j) out[j] = y[j];
  }
}

__global__ void __launch_bounds__(kMlpMaxThreads)
    mouth_motion_kernel(const __grid_constant__ MouthMotionArgs a, const __grid_constant__ Segments blocks,
                        int32_t block_rows, int scratch_width) {
  extern __shared__ float4 shared4[];
  const MouthMotionLayout& L = a.layout;
  const MlpBlockRows work = mlp_block_rows(a.seg, blocks, block_rows);
  const int s = work.segment;
  float* cursor = reinterpret_cast<float*>(shared4);
  MouthStaged w;
  w.audio_attention = mlp_stage_block(L.audio_attention, a.audio_attention.at[s], cursor);
  w.decoder = mlp_stage_block(L.decoder, a.decoder.at[s], cursor);
  w.hook_scaler = mlp_stage_block(L.hook_scaler, a.hook_scaler.at[s], cursor);
  const Columns c = row_columns(cursor, L.decoder.input(), scratch_width);
  __syncthreads();
  const float* audio = a.audio + static_cast<size_t>(s) * L.code_dim;
  const float* hook = a.hook + static_cast<size_t>(s) * kHookDim;
  for (int32_t row = work.begin + threadIdx.x; row < work.end; row += blockDim.x) {
    load_h(a.h + static_cast<size_t>(row) * L.grid_dim, L.grid_dim, c.x);
    mouth_motion_row(L, w, audio, hook, c.x, c.a, c.b, a.out + static_cast<size_t>(row) * kHookDim);
  }
}
}  // namespace

void face_motion_forward_cuda(const FaceMotionArgs& a) {
  if (a.seg.rows() == 0) return;
  static const MlpDevice device = mlp_prepare(face_motion_kernel);
  const FaceMotionLayout& L = a.layout;
  const int scratch = face_scratch_width(L);
  const int fixed = L.audio_attention.staged_count() + L.expression_attention.staged_count() +
                    L.expression_encoder.staged_count() + L.decoder.staged_count() + L.expression_dim;
  const MlpLaunch launch = mlp_plan(face_motion_kernel, device, a.seg, fixed, L.decoder.input() + 2 * scratch,
                                    "face_motion_forward");
  face_motion_kernel<<<launch.blocks.rows(), launch.threads, launch.shared_bytes>>>(a, launch.blocks,
                                                                                     launch.block_rows, scratch);
  cuda::check_launch("face_motion_forward");
}

void mouth_motion_forward_cuda(const MouthMotionArgs& a) {
  if (a.seg.rows() == 0) return;
  static const MlpDevice device = mlp_prepare(mouth_motion_kernel);
  const MouthMotionLayout& L = a.layout;
  const int scratch = mouth_scratch_width(L);
  const int fixed = L.audio_attention.staged_count() + L.decoder.staged_count() + L.hook_scaler.staged_count();
  const MlpLaunch launch = mlp_plan(mouth_motion_kernel, device, a.seg, fixed, L.decoder.input() + 2 * scratch,
                                    "mouth_motion_forward");
  mouth_motion_kernel<<<launch.blocks.rows(), launch.threads, launch.shared_bytes>>>(a, launch.blocks,
                                                                                      launch.block_rows, scratch);
  cuda::check_launch("mouth_motion_forward");
}

}  // namespace splatcast
