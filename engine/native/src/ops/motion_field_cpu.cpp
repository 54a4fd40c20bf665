#include <stdexcept>
#include <string>
#include <vector>

#include "../core/parallel.h"
#include "mlp_block.h"
#include "motion_field_math.h"

namespace splatcast {

namespace {
void expect_width(const char* what, int got, int expected, const std::string& why) {
  if (got != expected)
    throw std::invalid_argument(std::string(what) + " must be " + std::to_string(expected) + " (" + why + "), got " +
                                std::to_string(got));
}

std::string sum_text(std::initializer_list<std::pair<const char*, int>> terms) {
  std::string names, values;
  for (const auto& [name, value] : terms) {
    names += (names.empty() ? "" : " + ") + std::string(name);
    values += (values.empty() ? "" : " + ") + std::to_string(value);
  }
  return names + " = " + values;
}

// Staged copies of every network of one segment, reused for all its rows.
struct StagedSet {
  std::vector<float> data;
  std::vector<const float*> nets;
  StagedSet(std::initializer_list<const MlpLayout*> layouts) {
    size_t total = 0;
    for (const MlpLayout* L : layouts) total += L->staged_count();
    data.resize(total);
  }
  void stage(std::initializer_list<std::pair<const MlpLayout*, const float*>> nets_raw) {
    nets.clear();
    float* cursor = data.data();
    for (const auto& [L, raw] : nets_raw) {
      mlp_stage(*L, raw, cursor, 0, 1);
      nets.push_back(cursor);
      cursor += L->staged_count();
    }
  }
};

// Set every lane of block element i to v.
void broadcast(BlockVector& x, int i, float v) {
  float* e = x.element(i);
  for (int r = 0; r < kRowBlock; ++r) e[r] = v;
}

// face_motion_row (motion_field_math.h) over a block of rows: the same steps in the same order. x holds h in
// elements [0, G); returns the decoder output block.
const float* face_motion_block(const FaceMotionLayout& L, const FaceStaged& w, const float* audio, const float* code,
                               BlockVector& x, float* a, float* b) {
  const int G = L.grid_dim, C = L.code_dim, E = L.expression_dim;
  const float* att = mlp_block(L.audio_attention, w.audio_attention, x.v, a, b);
  for (int c = 0; c < C; ++c)
    for (int r = 0; r < kRowBlock; ++r) x.element(G + c)[r] = audio[c] * att[c * kRowBlock + r];
  att = mlp_block(L.expression_attention, w.expression_attention, x.v, a, b);
  for (int e = 0; e < E; ++e)
    for (int r = 0; r < kRowBlock; ++r) x.element(G + C + e)[r] = code[e] * relu(att[e * kRowBlock + r]);
  return mlp_block(L.decoder, w.decoder, x.v, a, b);
}

// mouth_motion_row over a block of rows; writes the three outputs to out[k * kRowBlock + lane].
void mouth_motion_block(const MouthMotionLayout& L, const MouthStaged& w, const float* audio, const float* hook,
                        BlockVector& x, float* a, float* b, float* out) {
  const int G = L.grid_dim, C = L.code_dim;
  for (int k = 0; k < kHookDim; ++k) broadcast(x, G + k, hook[k]);
  const float* logit = mlp_block(L.hook_scaler, w.hook_scaler, x.v, a, b);
  float tau[kRowBlock];
  for (int r = 0; r < kRowBlock; ++r) tau[r] = 2.f / (1.f + expf(-logit[r]));
  for (int k = 0; k < kHookDim; ++k) broadcast(x, G + C + k, hook[k]);
  const float* att = mlp_block(L.audio_attention, w.audio_attention, x.v, a, b);
  for (int c = 0; c < C; ++c)
    for (int r = 0; r < kRowBlock; ++r) x.element(G + c)[r] = audio[c] * att[c * kRowBlock + r];
  const float* d = mlp_block(L.decoder, w.decoder, x.v, a, b);
  for (int k = 0; k < kHookDim; ++k)
    for (int r = 0; r < kRowBlock; ++r) out[k * kRowBlock + r] = d[k * kRowBlock + r] * tau[r];
}
}  // namespace

FaceMotionLayout make_face_motion_layout(const MlpLayout& audio_attention, const MlpLayout& expression_attention,
                                         const MlpLayout& expression_encoder, const MlpLayout& decoder) {
  FaceMotionLayout L{audio_attention, expression_attention, expression_encoder, decoder,
                     audio_attention.input(), audio_attention.output(), expression_attention.output()};
  const int G = L.grid_dim, C = L.code_dim, E = L.expression_dim;
  if (E < 2)
    throw std::invalid_argument("expressionAttention.output (the expression dimension E) must be >= 2, got " +
                                std::to_string(E));
  expect_width("expressionAttention.input", expression_attention.input(), G, "audioAttention.input (G)");
  const char* encoder_width = "E - 1 with E = expressionAttention.output";
  expect_width("expressionEncoder.input", expression_encoder.input(), E - 1, encoder_width);
  expect_width("expressionEncoder.output", expression_encoder.output(), E - 1, encoder_width);
  expect_width("decoder.input", decoder.input(), G + C + E, sum_text({{"G", G}, {"codeDim", C}, {"E", E}}));
  return L;
}

MouthMotionLayout make_mouth_motion_layout(const MlpLayout& audio_attention, const MlpLayout& decoder,
                                           const MlpLayout& hook_scaler) {
  MouthMotionLayout L{audio_attention, decoder, hook_scaler, audio_attention.input(), audio_attention.output()};
  const int G = L.grid_dim, C = L.code_dim;
  expect_width("decoder.input", decoder.input(), G + C + kHookDim,
               sum_text({{"G", G}, {"codeDim", C}, {"hook", kHookDim}}));
  if (decoder.output() < kHookDim)
    throw std::invalid_argument("decoder.output must be >= 3 (d_xyz comes first), got " +
                                std::to_string(decoder.output()));
  expect_width("hookScaler.input", hook_scaler.input(), G + kHookDim, sum_text({{"G", G}, {"hook", kHookDim}}));
  expect_width("hookScaler.output", hook_scaler.output(), 1, "one gate logit");
  return L;
}

void face_motion_forward_cpu(const FaceMotionArgs& a) {
  const FaceMotionLayout& L = a.layout;
  const int G = L.grid_dim, out_dim = L.decoder.output();
  StagedSet staged{&L.audio_attention, &L.expression_attention, &L.expression_encoder, &L.decoder};
  float scratch_a[kMaxMlpWidth], scratch_b[kMaxMlpWidth], code[kMaxMlpWidth];
  for (int s = 0; s < a.seg.count; ++s) {
    if (a.seg.rows_of(s) == 0) continue;
    staged.stage({{&L.audio_attention, a.audio_attention.at[s]},
                  {&L.expression_attention, a.expression_attention.at[s]},
                  {&L.expression_encoder, a.expression_encoder.at[s]},
                  {&L.decoder, a.decoder.at[s]}});
    const FaceStaged w{staged.nets[0], staged.nets[1], staged.nets[2], staged.nets[3]};
    face_expression_code(L, w, a.expression + static_cast<size_t>(s) * L.expression_dim, code, {scratch_a, 1},
                         {scratch_b, 1});
    const float* audio = a.audio + static_cast<size_t>(s) * L.code_dim;
    parallel_for_blocks(a.seg, s, kRowBlock, kRowBlocksPerChunk, [&](int32_t row, int lanes) {
      BlockVector x, block_a, block_b;
      load_block(a.h + static_cast<size_t>(row) * G, G, lanes, x.v);
      const float* y = face_motion_block(L, w, audio, code, x, block_a.v, block_b.v);
      store_block(y, out_dim, lanes, a.out + static_cast<size_t>(row) * out_dim);
    });
  }
}

void mouth_motion_forward_cpu(const MouthMotionArgs& a) {
  const MouthMotionLayout& L = a.layout;
  const int G = L.grid_dim;
  StagedSet staged{&L.audio_attention, &L.decoder, &L.hook_scaler};
  for (int s = 0; s < a.seg.count; ++s) {
    if (a.seg.rows_of(s) == 0) continue;
    staged.stage({{&L.audio_attention, a.audio_attention.at[s]},
                  {&L.decoder, a.decoder.at[s]},
                  {&L.hook_scaler, a.hook_scaler.at[s]}});
    const MouthStaged w{staged.nets[0], staged.nets[1], staged.nets[2]};
    const float* audio = a.audio + static_cast<size_t>(s) * L.code_dim;
    const float* hook = a.hook + static_cast<size_t>(s) * kHookDim;
    parallel_for_blocks(a.seg, s, kRowBlock, kRowBlocksPerChunk, [&](int32_t row, int lanes) {
      BlockVector x, block_a, block_b;
      float out[kHookDim * kRowBlock];
      load_block(a.h + static_cast<size_t>(row) * G, G, lanes, x.v);
      mouth_motion_block(L, w, audio, hook, x, block_a.v, block_b.v, out);
      store_block(out, kHookDim, lanes, a.out + static_cast<size_t>(row) * kHookDim);
    });
  }
}

}  // namespace splatcast
