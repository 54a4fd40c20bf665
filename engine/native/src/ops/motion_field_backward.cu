#include "../core/cuda_runtime.h"
#include "mlp_grad.cuh"
#include "motion_field_backward.h"

namespace splatcast {

namespace {
int params_of(const MlpLayout& L) { return NetOffsets(L).params; }

int widest_of(std::initializer_list<const MlpLayout*> nets) {
  int w = 0;
  for (const MlpLayout* L : nets) w = widest_layer(*L) > w ? widest_layer(*L) : w;
  return w;
}

// What the kernels of one launch read, in device memory (cuda::DeviceArgs says why not as parameters).
template <typename Args>
struct BackwardLaunch {
  Args args;
  Segments blocks;  // the row kernel's blocks: blocks.offset[s] = first block of segment s
};

// x[r][first + k] = scale[k] * (relu ? max(att[r][k], 0) : att[r][k]) for k < n: the conditioning inputs.
__device__ inline void condition(SharedTile x, int first, const float* scale, SharedTile att, int n, bool relu,
                                 int rows, int tile_rows) {
  for (int e = threadIdx.x; e < n * tile_rows; e += blockDim.x) {
    const int k = e / tile_rows, r = e - k * tile_rows;
    if (r >= rows) continue;
    const float v = att.row(r)[k];
    x.row(r)[first + k] = scale[k] * (relu ? fmaxf(v, 0.f) : v);
  }
}

// Backward of condition() for the conditioning's gradient dx[r][first + k]: the attention's output gradient into
// delta (zero where the ReLU was off), and sum[k] += sum_r dx[r][first + k] * (relu'd) att[r][k].
__device__ inline void condition_grad(SharedTile dx, int first, const float* scale, SharedTile att, int n, bool relu,
                                      int rows, int tile_rows, SharedTile delta, float* sum) {
  for (int e = threadIdx.x; e < n * tile_rows; e += blockDim.x) {
    const int k = e / tile_rows, r = e - k * tile_rows;
    if (r >= rows) continue;
    delta.row(r)[k] = relu && !(att.row(r)[k] > 0.f) ? 0.f : dx.row(r)[first + k] * scale[k];
  }
  for (int k = threadIdx.x; k < n; k += blockDim.x) {
    float acc = 0.f;
    for (int r = 0; r < rows; ++r) {
      const float v = att.row(r)[k];
      acc += dx.row(r)[first + k] * (relu ? fmaxf(v, 0.f) : v);
    }
    sum[k] += acc;
  }
}

// Face, kernel 1: the per-row networks over one run of a segment's rows. Shared memory: the weight-gradient
// partials of the audio attention, expression attention and decoder, the audio and e_enc sums, e_enc and the
// encoder's one-row tiles, then the row tiles.
__global__ void __launch_bounds__(kGradThreads)
    face_motion_backward_kernel(const BackwardLaunch<FaceMotionBackwardArgs>* __restrict__ launch,
                                int32_t block_rows, int tile_rows, int spare_width) {
  extern __shared__ float4 shared4[];
  const FaceMotionBackwardArgs& a = launch->args;
  const FaceMotionLayout& L = a.layout;
  const int G = L.grid_dim, C = L.code_dim, E = L.expression_dim, X = L.decoder.input();
  const MlpBlockRows work = mlp_block_rows(a.seg, launch->blocks, block_rows);
  const int s = work.segment;
  const int p_aa = NetOffsets(L.audio_attention).params, p_ea = NetOffsets(L.expression_attention).params;
  const int p_dec = NetOffsets(L.decoder).params;
  float* grad_aa = reinterpret_cast<float*>(shared4);
  float* grad_ea = grad_aa + p_aa;
  float* grad_dec = grad_ea + p_ea;
  float* audio_sum = grad_dec + p_dec;
  float* code_sum = audio_sum + C;
  float* code = code_sum + E;
  float* cursor = code + E;
  const SharedTile encoder_in{cursor, tile_stride(E - 1)};
  cursor += encoder_in.stride;
  const NetTiles encoder = carve_net_tiles(L.expression_encoder, encoder_in, 1, cursor);
  const SharedTile x{cursor, tile_stride(X)};
  cursor += tile_rows * x.stride;
  const NetTiles aa = carve_net_tiles(L.audio_attention, x, tile_rows, cursor);
  const NetTiles ea = carve_net_tiles(L.expression_attention, x, tile_rows, cursor);
  const NetTiles dec = carve_net_tiles(L.decoder, x, tile_rows, cursor);
  const SharedTile upstream{cursor, tile_stride(L.decoder.output())};
  cursor += tile_rows * upstream.stride;
  const SharedTile dx{cursor, tile_stride(X)};  // the decoder input's gradient; h's collects in columns [0, G)
  cursor += tile_rows * dx.stride;
  const SharedTile spare[2] = {{cursor, spare_width}, {cursor + tile_rows * spare_width, spare_width}};
  const SharedTile dh = a.grad_h ? dx : SharedTile{};

  zero_shared(grad_aa, p_aa + p_ea + p_dec + C + E);
  const float* expression = a.expression + static_cast<size_t>(s) * E;
  for (int e = threadIdx.x; e + 1 < E; e += blockDim.x) encoder_in.p[e] = expression[e];
  __syncthreads();
  // e_enc depends on the segment only: each block recomputes it (one row).
  tile_net_forward(L.expression_encoder, a.expression_encoder.at[s], encoder, L.expression_encoder.layers, 1, 1);
  for (int e = threadIdx.x; e < E; e += blockDim.x)
    code[e] = e + 1 < E ? encoder.act[L.expression_encoder.layers].p[e] : expression[E - 1];

  const float* audio = a.audio + static_cast<size_t>(s) * C;
  const SharedTile att_a = aa.act[L.audio_attention.layers], att_e = ea.act[L.expression_attention.layers];
  for (int32_t row0 = work.begin; row0 < work.end; row0 += tile_rows) {
    const int rows = work.end - row0 < tile_rows ? work.end - row0 : tile_rows;
    load_tile(a.h, G, row0, rows, x);
    load_tile(a.grad_out, L.decoder.output(), row0, rows, upstream);
    __syncthreads();
    tile_net_forward(L.audio_attention, a.audio_attention.at[s], aa, L.audio_attention.layers, rows, tile_rows);
    tile_net_forward(L.expression_attention, a.expression_attention.at[s], ea, L.expression_attention.layers, rows,
                     tile_rows);
    condition(x, G, audio, att_a, C, false, rows, tile_rows);
    condition(x, G + C, code, att_e, E, true, rows, tile_rows);
    __syncthreads();
    tile_net_forward(L.decoder, a.decoder.at[s], dec, L.decoder.layers - 1, rows, tile_rows);
    tile_net_backward(L.decoder, a.decoder.at[s], dec, upstream, spare, grad_dec, dx, false, rows, tile_rows);
    condition_grad(dx, G, audio, att_a, C, false, rows, tile_rows, spare[0], audio_sum);
    __syncthreads();
    tile_net_backward(L.audio_attention, a.audio_attention.at[s], aa, spare[0], spare, grad_aa, dh, true, rows,
                      tile_rows);
    condition_grad(dx, G + C, code, att_e, E, true, rows, tile_rows, spare[0], code_sum);
    __syncthreads();
    tile_net_backward(L.expression_attention, a.expression_attention.at[s], ea, spare[0], spare, grad_ea, dh, true,
                      rows, tile_rows);
    if (dh.p) {
      store_tile(dh, G, row0, rows, a.grad_h);
      __syncthreads();
    }
  }
  __syncthreads();
  flush_grad(grad_aa, p_aa, a.grad_audio_attention.at[s]);
  flush_grad(grad_ea, p_ea, a.grad_expression_attention.at[s]);
  flush_grad(grad_dec, p_dec, a.grad_decoder.at[s]);
  if (a.grad_audio) flush_grad(audio_sum, C, a.grad_audio + static_cast<size_t>(s) * C);
  flush_grad(code_sum, E, a.grad_expression + static_cast<size_t>(s) * E);
}

// Face, kernel 2: a block per segment takes the summed d e_enc (left in grad_expression by kernel 1) through the
// expression encoder, to its weights and to expression[seg][0 .. E-2] (d expression[E-1] = d e_enc[E-1] stays).
__global__ void __launch_bounds__(kGradThreads)
    face_code_backward_kernel(const BackwardLaunch<FaceMotionBackwardArgs>* __restrict__ launch, int spare_width) {
  extern __shared__ float4 shared4[];
  const FaceMotionBackwardArgs& a = launch->args;
  const int s = blockIdx.x;
  if (a.seg.rows_of(s) == 0) return;
  const MlpLayout& L = a.layout.expression_encoder;
  const int E = a.layout.expression_dim, params = NetOffsets(L).params, n = E - 1;
  float* grad = reinterpret_cast<float*>(shared4);
  float* cursor = grad + params;
  const SharedTile in{cursor, tile_stride(n)}, d_code{cursor + in.stride, tile_stride(n)};
  const SharedTile dx{cursor + 2 * in.stride, tile_stride(n)};
  cursor += 3 * in.stride;
  const SharedTile spare[2] = {{cursor, spare_width}, {cursor + spare_width, spare_width}};
  cursor += 2 * spare_width;
  const NetTiles t = carve_net_tiles(L, in, 1, cursor);
  float* grad_expression = a.grad_expression + static_cast<size_t>(s) * E;
  zero_shared(grad, params);
  for (int e = threadIdx.x; e < n; e += blockDim.x) {
    in.p[e] = a.expression[static_cast<size_t>(s) * E + e];
    d_code.p[e] = grad_expression[e];
  }
  __syncthreads();
  tile_net_forward(L, a.expression_encoder.at[s], t, L.layers - 1, 1, 1);
  tile_net_backward(L, a.expression_encoder.at[s], t, d_code, spare, grad, dx, false, 1, 1);
  for (int e = threadIdx.x; e < n; e += blockDim.x) grad_expression[e] = dx.p[e];
  flush_grad(grad, params, a.grad_expression_encoder.at[s]);
}

// Mouth: shared memory holds the weight-gradient partials of the audio attention, decoder and hook scaler, the
// audio and hook sums, then the row tiles: x = [h, a', hook] (decoder), xs = [h, hook] (hook scaler).
__global__ void __launch_bounds__(kGradThreads)
    mouth_motion_backward_kernel(const BackwardLaunch<MouthMotionBackwardArgs>* __restrict__ launch,
                                 int32_t block_rows, int tile_rows, int spare_width) {
  extern __shared__ float4 shared4[];
  const MouthMotionBackwardArgs& a = launch->args;
  const MouthMotionLayout& L = a.layout;
  const int G = L.grid_dim, C = L.code_dim, X = L.decoder.input(), S = L.hook_scaler.input();
  const int D = L.decoder.output();
  const MlpBlockRows work = mlp_block_rows(a.seg, launch->blocks, block_rows);
  const int s = work.segment;
  const int p_aa = NetOffsets(L.audio_attention).params, p_dec = NetOffsets(L.decoder).params;
  const int p_hs = NetOffsets(L.hook_scaler).params;
  float* grad_aa = reinterpret_cast<float*>(shared4);
  float* grad_dec = grad_aa + p_aa;
  float* grad_hs = grad_dec + p_dec;
  float* audio_sum = grad_hs + p_hs;
  float* hook_sum = audio_sum + C;
  float* cursor = hook_sum + kHookDim;
  const SharedTile x{cursor, tile_stride(X)};
  cursor += tile_rows * x.stride;
  const SharedTile xs{cursor, tile_stride(S)};
  cursor += tile_rows * xs.stride;
  const NetTiles aa = carve_net_tiles(L.audio_attention, x, tile_rows, cursor);
  const NetTiles dec = carve_net_tiles(L.decoder, x, tile_rows, cursor);
  const NetTiles hs = carve_net_tiles(L.hook_scaler, xs, tile_rows, cursor);
  const SharedTile upstream{cursor, tile_stride(kHookDim)};
  cursor += tile_rows * upstream.stride;
  const SharedTile d_dec{cursor, tile_stride(D)};
  cursor += tile_rows * d_dec.stride;
  const SharedTile d_logit{cursor, 1};
  cursor += tile_rows;
  const SharedTile dx{cursor, tile_stride(X)};  // h's gradient collects in columns [0, G)
  cursor += tile_rows * dx.stride;
  const SharedTile dxs{cursor, tile_stride(S)};
  cursor += tile_rows * dxs.stride;
  const SharedTile spare[2] = {{cursor, spare_width}, {cursor + tile_rows * spare_width, spare_width}};

  zero_shared(grad_aa, p_aa + p_dec + p_hs + C + kHookDim);
  const float* audio = a.audio + static_cast<size_t>(s) * C;
  const float* hook = a.hook + static_cast<size_t>(s) * kHookDim;
  const SharedTile att = aa.act[L.audio_attention.layers], d = dec.act[L.decoder.layers];
  const SharedTile logit = hs.act[L.hook_scaler.layers];
  for (int32_t row0 = work.begin; row0 < work.end; row0 += tile_rows) {
    const int rows = work.end - row0 < tile_rows ? work.end - row0 : tile_rows;
    load_tile(a.h, G, row0, rows, x);
    load_tile(a.h, G, row0, rows, xs);
    load_tile(a.grad_out, kHookDim, row0, rows, upstream);
    for (int e = threadIdx.x; e < rows * kHookDim; e += blockDim.x) {
      const int r = e / kHookDim, k = e - r * kHookDim;
      x.row(r)[G + C + k] = xs.row(r)[G + k] = hook[k];
    }
    __syncthreads();
    tile_net_forward(L.hook_scaler, a.hook_scaler.at[s], hs, L.hook_scaler.layers, rows, tile_rows);
    tile_net_forward(L.audio_attention, a.audio_attention.at[s], aa, L.audio_attention.layers, rows, tile_rows);
    condition(x, G, audio, att, C, false, rows, tile_rows);
    __syncthreads();
    tile_net_forward(L.decoder, a.decoder.at[s], dec, L.decoder.layers, rows, tile_rows);
    for (int e = threadIdx.x; e < D * tile_rows; e += blockDim.x) {
      const int k = e / tile_rows, r = e - k * tile_rows;
      if (r < rows) d_dec.row(r)[k] = k < kHookDim ? upstream.row(r)[k] * hook_gate(logit.row(r)[0]) : 0.f;
    }
    for (int r = threadIdx.x; r < rows; r += blockDim.x) {
      const float tau = hook_gate(logit.row(r)[0]);
      float d_tau = 0.f;
      for (int k = 0; k < kHookDim; ++k) d_tau += upstream.row(r)[k] * d.row(r)[k];
      d_logit.row(r)[0] = d_tau * hook_gate_grad(tau);
    }
    __syncthreads();
    tile_net_backward(L.decoder, a.decoder.at[s], dec, d_dec, spare, grad_dec, dx, false, rows, tile_rows);
    tile_net_backward(L.hook_scaler, a.hook_scaler.at[s], hs, d_logit, spare, grad_hs, dxs, false, rows, tile_rows);
    condition_grad(dx, G, audio, att, C, false, rows, tile_rows, spare[0], audio_sum);
    for (int k = threadIdx.x; k < kHookDim; k += blockDim.x) {
      float acc = 0.f;
      for (int r = 0; r < rows; ++r) acc += dx.row(r)[G + C + k] + dxs.row(r)[G + k];
      hook_sum[k] += acc;
    }
    for (int e = threadIdx.x; e < G * tile_rows; e += blockDim.x) {
      const int i = e / tile_rows, r = e - i * tile_rows;
      if (r < rows) dx.row(r)[i] += dxs.row(r)[i];
    }
    __syncthreads();
    tile_net_backward(L.audio_attention, a.audio_attention.at[s], aa, spare[0], spare, grad_aa,
                      a.grad_h ? dx : SharedTile{}, true, rows, tile_rows);
    if (a.grad_h) {
      store_tile(dx, G, row0, rows, a.grad_h);
      __syncthreads();
    }
  }
  __syncthreads();
  flush_grad(grad_aa, p_aa, a.grad_audio_attention.at[s]);
  flush_grad(grad_dec, p_dec, a.grad_decoder.at[s]);
  flush_grad(grad_hs, p_hs, a.grad_hook_scaler.at[s]);
  if (a.grad_audio) flush_grad(audio_sum, C, a.grad_audio + static_cast<size_t>(s) * C);
  if (a.grad_hook) flush_grad(hook_sum, kHookDim, a.grad_hook + static_cast<size_t>(s) * kHookDim);
}
}  // namespace

void face_motion_backward_cuda(const FaceMotionBackwardArgs& a) {
  const FaceMotionLayout& L = a.layout;
  const int C = L.code_dim, E = L.expression_dim, X = L.decoder.input();
  // The per-segment gradients are sums that blocks add into: start them at zero (also for empty segments).
  cuda::zero(a.grad_expression, sizeof(float) * a.seg.count * E);
  if (a.grad_audio) cuda::zero(a.grad_audio, sizeof(float) * a.seg.count * C);
  if (a.seg.rows() == 0) return;
  static const MlpDevice device = mlp_prepare(face_motion_backward_kernel);
  static const MlpDevice code_device = mlp_prepare(face_code_backward_kernel);
  const int spare = tile_stride(
      widest_of({&L.audio_attention, &L.expression_attention, &L.expression_encoder, &L.decoder}));
  const int fixed = params_of(L.audio_attention) + params_of(L.expression_attention) + params_of(L.decoder) + C +
                    2 * E + tile_stride(E - 1) + net_tile_floats(L.expression_encoder);
  const int per_row = 2 * tile_stride(X) + net_tile_floats(L.audio_attention) +
                      net_tile_floats(L.expression_attention) + net_tile_floats(L.decoder) +
                      tile_stride(L.decoder.output()) + 2 * spare;
  const GradLaunch launch = grad_plan(face_motion_backward_kernel, device, a.seg, fixed, per_row,
                                      "face_motion_backward");
  const cuda::DeviceArgs<BackwardLaunch<FaceMotionBackwardArgs>> args({a, launch.blocks});
  face_motion_backward_kernel<<<launch.blocks.rows(), kGradThreads, launch.shared_bytes>>>(
      args.get(), launch.block_rows, launch.tile_rows, spare);
  cuda::check_launch("face_motion_backward");
  const size_t code_bytes = sizeof(float) * (params_of(L.expression_encoder) + 3 * tile_stride(E - 1) + 2 * spare +
                                             net_tile_floats(L.expression_encoder));
  if (code_bytes > code_device.shared_limit)
    throw std::runtime_error("face_motion_backward: the expression encoder needs " + std::to_string(code_bytes) +
                             " bytes of shared memory, this GPU allows " + std::to_string(code_device.shared_limit));
  face_code_backward_kernel<<<a.seg.count, kGradThreads, code_bytes>>>(args.get(), spare);
  cuda::check_launch("face_motion_backward (expression encoder)");
}

void mouth_motion_backward_cuda(const MouthMotionBackwardArgs& a) {
  const MouthMotionLayout& L = a.layout;
  const int C = L.code_dim;
  if (a.grad_audio) cuda::zero(a.grad_audio, sizeof(float) * a.seg.count * C);
  if (a.grad_hook) cuda::zero(a.grad_hook, sizeof(float) * a.seg.count * kHookDim);
  if (a.seg.rows() == 0) return;
  static const MlpDevice device = mlp_prepare(mouth_motion_backward_kernel);
  const int spare = tile_stride(widest_of({&L.audio_attention, &L.decoder, &L.hook_scaler}));
  const int fixed = params_of(L.audio_attention) + params_of(L.decoder) + params_of(L.hook_scaler) + C + kHookDim;
  const int per_row = 2 * tile_stride(L.decoder.input()) + 2 * tile_stride(L.hook_scaler.input()) +
                      net_tile_floats(L.audio_attention) + net_tile_floats(L.decoder) +
                      net_tile_floats(L.hook_scaler) + tile_stride(kHookDim) + tile_stride(L.decoder.output()) + 1 +
                      2 * spare;
  const GradLaunch launch = grad_plan(mouth_motion_backward_kernel, device, a.seg, fixed, per_row,
                                      "mouth_motion_backward");
  const cuda::DeviceArgs<BackwardLaunch<MouthMotionBackwardArgs>> args({a, launch.blocks});
  mouth_motion_backward_kernel<<<launch.blocks.rows(), kGradThreads, launch.shared_bytes>>>(
      args.get(), launch.block_rows, launch.tile_rows, spare);
  cuda::check_launch("mouth_motion_backward");
}

}  // namespace splatcast
