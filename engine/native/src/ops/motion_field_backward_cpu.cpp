#include <cstring>
#include <vector>

#include "grad_chunks.h"
#include "mlp_grad_cpu.h"
#include "motion_field_backward.h"

namespace splatcast {

namespace {
constexpr int32_t kChunkRows = 256;  // rows per partial gradient (grad_chunks.h)

// A row-major tile of kCpuTileRows rows.
struct Tile {
  std::vector<float> data;
  TileView view;
  explicit Tile(int width) : data(static_cast<size_t>(kCpuTileRows) * width), view{data.data(), width} {}
};

// Rows [row, row + rows) of a [*, width] array into the first `width` columns of a tile, or back.
void load_rows(const float* src, int width, int32_t row, int rows, TileView dst) {
  for (int r = 0; r < rows; ++r)
    std::memcpy(dst.row(r), src + static_cast<size_t>(row + r) * width, sizeof(float) * width);
}

TileView rows_of(const float* array, int width, int32_t row) {
  return {const_cast<float*>(array) + static_cast<size_t>(row) * width, width};
}

// A segment's network input as a one-row tile (read only).
TileView one_row(const float* values, int width) { return {const_cast<float*>(values), width}; }

// e_enc of one face segment: the expression encoder over all signals but the last, then the last as is.
void expression_code(const CpuGradNet& encoder, const float* expression, int E, float* code) {
  const MlpLayout& L = encoder.layout();
  NetTile t(L, one_row(expression, E - 1));
  encoder.forward(1, t, L.layers);
  std::memcpy(code, t.act[L.layers].p, sizeof(float) * (E - 1));
  code[E - 1] = expression[E - 1];
}

// Backward of expression_code for a segment's summed d e_enc: the encoder's weights (accumulated) and the
// expression gradient (written).
void expression_code_backward(const CpuGradNet& encoder, const float* expression, const float* d_code, int E,
                              float* grad_weights, float* grad_expression) {
  const MlpLayout& L = encoder.layout();
  NetTile t(L, one_row(expression, E - 1));
  encoder.forward(1, t, L.layers - 1);
  std::vector<float> scratch(2 * kCpuTileRows * kMaxMlpWidth);
  encoder.backward(1, t, one_row(d_code, E - 1), grad_weights, {grad_expression, E - 1}, false, scratch.data());
  grad_expression[E - 1] = d_code[E - 1];
}

size_t params(const MlpLayout& L) { return static_cast<size_t>(L.param_count()); }
}  // namespace

void face_motion_backward_cpu(const FaceMotionBackwardArgs& a) {
  const FaceMotionLayout& L = a.layout;
  const int G = L.grid_dim, C = L.code_dim, E = L.expression_dim, X = L.decoder.input();
  const std::vector<CpuGradNet> aa = prepare_grad_nets(L.audio_attention, a.audio_attention, a.seg);
  const std::vector<CpuGradNet> ea = prepare_grad_nets(L.expression_attention, a.expression_attention, a.seg);
  const std::vector<CpuGradNet> ee = prepare_grad_nets(L.expression_encoder, a.expression_encoder, a.seg);
  const std::vector<CpuGradNet> dec = prepare_grad_nets(L.decoder, a.decoder, a.seg);
  std::vector<float> codes(static_cast<size_t>(a.seg.count) * E);
  for (int s = 0; s < a.seg.count; ++s)
    if (a.seg.rows_of(s) > 0) expression_code(ee[s], a.expression + static_cast<size_t>(s) * E, E, &codes[s * E]);
  // A chunk's partial: the three per-row networks' weight gradients, then the audio and e_enc sums.
  const size_t at_ea = params(L.audio_attention), at_dec = at_ea + params(L.expression_attention);
  const size_t at_audio = at_dec + params(L.decoder), at_code = at_audio + C, width = at_code + E;
  // Segments without rows are never flushed: their per-segment gradients stay zero.
  std::memset(a.grad_expression, 0, sizeof(float) * a.seg.count * E);
  if (a.grad_audio) std::memset(a.grad_audio, 0, sizeof(float) * a.seg.count * C);
  reduce_segment_chunks(
      a.seg, kChunkRows, width,
      [&](int s, int32_t first, int32_t rows, float* partial) {
        Tile x(X), dx(X), delta(C > E ? C : E);
        NetTile aa_t(L.audio_attention, x.view), ea_t(L.expression_attention, x.view), dec_t(L.decoder, x.view);
        std::vector<float> scratch(2 * kCpuTileRows * kMaxMlpWidth);
        const float* audio = a.audio + static_cast<size_t>(s) * C;
        const float* code = &codes[s * E];
        const TileView att_a = aa_t.act[L.audio_attention.layers], att_e = ea_t.act[L.expression_attention.layers];
        for (int32_t row = first; row < first + rows; row += kCpuTileRows) {
          const int n = first + rows - row < kCpuTileRows ? first + rows - row : kCpuTileRows;
          load_rows(a.h, G, row, n, x.view);
          aa[s].forward(n, aa_t, L.audio_attention.layers);
          ea[s].forward(n, ea_t, L.expression_attention.layers);
          for (int r = 0; r < n; ++r) {
            for (int c = 0; c < C; ++c) x.view.row(r)[G + c] = audio[c] * att_a.row(r)[c];
            for (int e = 0; e < E; ++e) x.view.row(r)[G + C + e] = code[e] * fmaxf(att_e.row(r)[e], 0.f);
          }
          dec[s].forward(n, dec_t, L.decoder.layers - 1);
          dec[s].backward(n, dec_t, rows_of(a.grad_out, L.decoder.output(), row), partial + at_dec, dx.view, false,
                          scratch.data());
          const TileView dh = a.grad_h ? TileView{a.grad_h + static_cast<size_t>(row) * G, G} : TileView{};
          if (dh.p)
            for (int r = 0; r < n; ++r) std::memcpy(dh.row(r), dx.view.row(r), sizeof(float) * G);
          for (int r = 0; r < n; ++r)
            for (int c = 0; c < C; ++c) {
              const float d = dx.view.row(r)[G + c];
              delta.view.row(r)[c] = d * audio[c];
              partial[at_audio + c] += d * att_a.row(r)[c];
            }
          aa[s].backward(n, aa_t, delta.view, partial, dh, true, scratch.data());
          for (int r = 0; r < n; ++r)
            for (int e = 0; e < E; ++e) {
              const float d = dx.view.row(r)[G + C + e], att = att_e.row(r)[e];
              delta.view.row(r)[e] = att > 0.f ? d * code[e] : 0.f;
              partial[at_code + e] += d * fmaxf(att, 0.f);
            }
          ea[s].backward(n, ea_t, delta.view, partial + at_ea, dh, true, scratch.data());
        }
      },
      [&](int s, const float* sum) {
        add_into(a.grad_audio_attention.at[s], sum, params(L.audio_attention));
        add_into(a.grad_expression_attention.at[s], sum + at_ea, params(L.expression_attention));
        add_into(a.grad_decoder.at[s], sum + at_dec, params(L.decoder));
        if (a.grad_audio) std::memcpy(a.grad_audio + static_cast<size_t>(s) * C, sum + at_audio, sizeof(float) * C);
        expression_code_backward(ee[s], a.expression + static_cast<size_t>(s) * E, sum + at_code, E,
                                 a.grad_expression_encoder.at[s], a.grad_expression + static_cast<size_t>(s) * E);
      });
}

void mouth_motion_backward_cpu(const MouthMotionBackwardArgs& a) {
  const MouthMotionLayout& L = a.layout;
  const int G = L.grid_dim, C = L.code_dim, X = L.decoder.input(), S = L.hook_scaler.input();
  const int D = L.decoder.output();
  const std::vector<CpuGradNet> aa = prepare_grad_nets(L.audio_attention, a.audio_attention, a.seg);
  const std::vector<CpuGradNet> dec = prepare_grad_nets(L.decoder, a.decoder, a.seg);
  const std::vector<CpuGradNet> hs = prepare_grad_nets(L.hook_scaler, a.hook_scaler, a.seg);
  // A chunk's partial: the three networks' weight gradients, then the audio and hook sums.
  const size_t at_dec = params(L.audio_attention), at_hs = at_dec + params(L.decoder);
  const size_t at_audio = at_hs + params(L.hook_scaler), at_hook = at_audio + C, width = at_hook + kHookDim;
  if (a.grad_audio) std::memset(a.grad_audio, 0, sizeof(float) * a.seg.count * C);
  if (a.grad_hook) std::memset(a.grad_hook, 0, sizeof(float) * a.seg.count * kHookDim);
  reduce_segment_chunks(
      a.seg, kChunkRows, width,
      [&](int s, int32_t first, int32_t rows, float* partial) {
        // x = [h, a', hook] feeds the decoder (h alone the audio attention), xs = [h, hook] the hook scaler.
        Tile x(X), xs(S), dx(X), dxs(S), delta(C > D ? C : D), d_logit(1);
        NetTile aa_t(L.audio_attention, x.view), dec_t(L.decoder, x.view), hs_t(L.hook_scaler, xs.view);
        std::vector<float> scratch(2 * kCpuTileRows * kMaxMlpWidth);
        const float* audio = a.audio + static_cast<size_t>(s) * C;
        const float* hook = a.hook + static_cast<size_t>(s) * kHookDim;
        const TileView att = aa_t.act[L.audio_attention.layers], d = dec_t.act[L.decoder.layers];
        const TileView logit = hs_t.act[L.hook_scaler.layers];
        for (int32_t row = first; row < first + rows; row += kCpuTileRows) {
          const int n = first + rows - row < kCpuTileRows ? first + rows - row : kCpuTileRows;
          load_rows(a.h, G, row, n, x.view);
          load_rows(a.h, G, row, n, xs.view);
          for (int r = 0; r < n; ++r)
            for (int k = 0; k < kHookDim; ++k) x.view.row(r)[G + C + k] = xs.view.row(r)[G + k] = hook[k];
          hs[s].forward(n, hs_t, L.hook_scaler.layers);
          aa[s].forward(n, aa_t, L.audio_attention.layers);
          for (int r = 0; r < n; ++r)
            for (int c = 0; c < C; ++c) x.view.row(r)[G + c] = audio[c] * att.row(r)[c];
          dec[s].forward(n, dec_t, L.decoder.layers);
          const TileView g = rows_of(a.grad_out, kHookDim, row);
          for (int r = 0; r < n; ++r) {
            const float tau = hook_gate(logit.row(r)[0]);
            float d_tau = 0.f;
            for (int k = 0; k < D; ++k) delta.view.row(r)[k] = k < kHookDim ? g.row(r)[k] * tau : 0.f;
            for (int k = 0; k < kHookDim; ++k) d_tau += g.row(r)[k] * d.row(r)[k];
            d_logit.view.row(r)[0] = d_tau * hook_gate_grad(tau);
          }
          dec[s].backward(n, dec_t, delta.view, partial + at_dec, dx.view, false, scratch.data());
          hs[s].backward(n, hs_t, d_logit.view, partial + at_hs, dxs.view, false, scratch.data());
          const TileView dh = a.grad_h ? TileView{a.grad_h + static_cast<size_t>(row) * G, G} : TileView{};
          for (int r = 0; r < n; ++r) {
            if (dh.p)
              for (int i = 0; i < G; ++i) dh.row(r)[i] = dx.view.row(r)[i] + dxs.view.row(r)[i];
            for (int k = 0; k < kHookDim; ++k)
              partial[at_hook + k] += dx.view.row(r)[G + C + k] + dxs.view.row(r)[G + k];
            for (int c = 0; c < C; ++c) {
              const float da = dx.view.row(r)[G + c];
              delta.view.row(r)[c] = da * audio[c];
              partial[at_audio + c] += da * att.row(r)[c];
            }
          }
          aa[s].backward(n, aa_t, delta.view, partial, dh, true, scratch.data());
        }
      },
      [&](int s, const float* sum) {
        add_into(a.grad_audio_attention.at[s], sum, params(L.audio_attention));
        add_into(a.grad_decoder.at[s], sum + at_dec, params(L.decoder));
        add_into(a.grad_hook_scaler.at[s], sum + at_hs, params(L.hook_scaler));
        if (a.grad_audio) std::memcpy(a.grad_audio + static_cast<size_t>(s) * C, sum + at_audio, sizeof(float) * C);
        if (a.grad_hook)
          std::memcpy(a.grad_hook + static_cast<size_t>(s) * kHookDim, sum + at_hook, sizeof(float) * kHookDim);
      });
}

}  // namespace splatcast
