// Runs the REAL fused motion-field backward kernels (motion_field_backward_emu.cpp, the Makefile's copy of the .cu)
// on the CPU through the real host launchers, and compares every gradient with the repo's CPU twin.
//   ./harness [face|mouth|all] [rows,rows,...[:identity,identity,...]] [nogradh] [noaudio]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../core/cuda_runtime.h"
#include "mlp_grad.cuh"
#include "motion_field_backward.h"

namespace splatcast::cuda {
void zero(void* dst, size_t bytes) { std::memset(dst, 0, bytes); }
// Exact-size heap copies (AddressSanitizer sees a read past them); the emulated launch is synchronous.
void* upload_args(const void* src, size_t bytes) { return std::memcpy(std::malloc(bytes), src, bytes); }
void release_args(void* ptr) { std::free(ptr); }
void check_launch(const char* op) {
  if (emu_launch_failed) {
    std::fprintf(stderr, "[emu] check_launch(%s): launch failed\n", op);
    std::exit(3);
  }
}
}  // namespace splatcast::cuda

using namespace splatcast;

namespace {
std::mt19937 rng(12345);

// A heap buffer of exactly n floats (ASan sees one past it).
struct Buf {
  float* p = nullptr;
  size_t n = 0;
  Buf() = default;
  explicit Buf(size_t count) : n(count) { p = static_cast<float*>(std::malloc(sizeof(float) * (n ? n : 1))); }
  Buf(const Buf&) = delete;
  Buf(Buf&& o) noexcept : p(o.p), n(o.n) { o.p = nullptr; }
  ~Buf() { std::free(p); }
  Buf& uniform(float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    for (size_t i = 0; i < n; ++i) p[i] = d(rng);
    return *this;
  }
  Buf& fill(float v) {
    for (size_t i = 0; i < n; ++i) p[i] = v;
    return *this;
  }
  Buf clone() const {
    Buf b(n);
    std::memcpy(b.p, p, sizeof(float) * n);
    return b;
  }
};

double grad_error(const Buf& got, const Buf& want) {  // testing/gradcheck.ts gradError, floor 1e-3
  double scale = 1e-3, worst = 0;
  for (size_t i = 0; i < want.n; ++i) scale = std::fmax(scale, std::fabs(want.p[i]));
  for (size_t i = 0; i < got.n; ++i) {
    const double e = std::fabs(static_cast<double>(got.p[i]) - want.p[i]) / scale;
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

MlpLayout mlp(const char* name, int in, std::vector<int> hidden, int out) {
  return make_mlp_layout(name, in, hidden.data(), static_cast<int>(hidden.size()), out, false);  // bias = false
}

// engine/src/model/config.ts defaultModelConfig(): gridDim 3*12, codeDim 32, expressionDim 6.
constexpr int kG = 36, kC = 32, kE = 6;
FaceMotionLayout face_layout() {
  return make_face_motion_layout(mlp("audioAttention", kG, {32}, kC), mlp("expressionAttention", kG, {16}, kE),
                                 mlp("expressionEncoder", kE - 1, {16}, kE - 1),
                                 mlp("decoder", kG + kC + kE, {64, 64}, 11));
}
MouthMotionLayout mouth_layout() {
  return make_mouth_motion_layout(mlp("audioAttention", kG, {32}, kC), mlp("decoder", kG + kC + 3, {32, 32}, 7),
                                  mlp("hookScaler", kG + 3, {32}, 1));
}

int widest(std::initializer_list<const MlpLayout*> nets) {
  int w = 0;
  for (auto* L : nets) w = std::max(w, widest_layer(*L));
  return w;
}

// My own mirror of the launchers' plan (motion_field_backward.cu 265-275, 293-302, mlp_grad.cuh grad_plan), to check
// against what the real launcher launched.
struct Plan {
  int fixed, per_row, spare, tile_rows;
  size_t shared_bytes;
  int32_t block_rows;
  int grid;
};
Plan plan(const Segments& seg, int fixed, int per_row, int spare) {
  Plan p{fixed, per_row, spare, 0, 0, 0, 0};
  for (int tile = 32; tile >= 8 && !p.tile_rows; tile /= 2) {
    const size_t bytes = 4 * (size_t(fixed) + size_t(per_row) * tile);
    if (bytes <= kEmuSharedOptin) p.tile_rows = tile, p.shared_bytes = bytes;
  }
  int resident = 0;
  cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, (void (*)()) nullptr, kGradThreads, p.shared_bytes);
  int64_t tiles = 0;
  for (int s = 0; s < seg.count; ++s) tiles += (seg.rows_of(s) + p.tile_rows - 1) / p.tile_rows;
  const int64_t wave = int64_t(resident > 0 ? resident : 1) * kEmuSms, per_block = (tiles + wave - 1) / wave;
  p.block_rows = p.tile_rows * int32_t(per_block > 1 ? per_block : 1);
  for (int s = 0; s < seg.count; ++s) p.grid += (seg.rows_of(s) + p.block_rows - 1) / p.block_rows;
  std::printf("  plan: fixed %d per_row %d spare %d tile_rows %d shared_bytes %zu resident %d block_rows %d grid %d\n",
              fixed, per_row, spare, p.tile_rows, p.shared_bytes, resident, p.block_rows, p.grid);
  return p;
}

struct Case {
  std::vector<int> rows, identity;
  bool grad_h = true, grad_audio = true, grad_hook = true;
};

Segments segments_of(const std::vector<int>& rows) {
  Segments s;
  s.count = static_cast<int32_t>(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) s.offset[i + 1] = s.offset[i] + rows[i];
  return s;
}

bool report(const char* name, const Buf& got, const Buf& want, double tol, double& worst) {
  const double e = grad_error(got, want);
  worst = std::max(worst, e);
  const bool ok = e < tol;
  uint64_t hsh = 1469598103934665603ull;  // FNV-1a of the kernel's bytes: equal across schedules when race-free
  const unsigned char* b = reinterpret_cast<const unsigned char*>(got.p);
  for (size_t i = 0; i < got.n * sizeof(float); ++i) hsh = (hsh ^ b[i]) * 1099511628211ull;
  std::printf("    %-28s n=%-8zu err %.3g  hash %016llx%s\n", name, got.n, e, (unsigned long long)hsh,
              ok ? "" : "   <-- MISMATCH");
  return ok;
}

// Per-identity weights (shared by segments of one identity, like the GPU parity test) and per-identity gradients.
struct Nets {
  std::vector<Buf> w, g;
  PerSegment<const float*> wt;
  PerSegment<float*> gt;
  Nets(const MlpLayout& L, const Case& c) {
    const int ids = *std::max_element(c.identity.begin(), c.identity.end()) + 1;
    for (int i = 0; i < ids; ++i) {
      w.emplace_back(size_t(L.param_count())).uniform(-0.3f, 0.3f);
      g.emplace_back(size_t(L.param_count())).uniform(-1.f, 1.f);
    }
    bind();
    ids_ = c.identity;
  }
  void bind() {}
  std::vector<Buf> grads_clone() const {
    std::vector<Buf> out;
    for (auto& b : g) out.push_back(b.clone());
    return out;
  }
  PerSegment<const float*> weights() const {
    PerSegment<const float*> t;
    for (size_t s = 0; s < ids_.size(); ++s) t.at[s] = w[ids_[s]].p;
    return t;
  }
  static PerSegment<float*> table(std::vector<Buf>& gs, const std::vector<int>& ids) {
    PerSegment<float*> t;
    for (size_t s = 0; s < ids.size(); ++s) t.at[s] = gs[ids[s]].p;
    return t;
  }
  std::vector<int> ids_;
};

bool run_face(const Case& c) {
  const FaceMotionLayout L = face_layout();
  const Segments seg = segments_of(c.rows);
  const int S = seg.count, R = seg.rows(), G = L.grid_dim, C = L.code_dim, E = L.expression_dim;
  const int D = L.decoder.output(), X = L.decoder.input();
  std::printf("face: G %d C %d E %d X %d D %d | rows", G, C, E, X, D);
  for (size_t i = 0; i < c.rows.size(); ++i) std::printf(" %d(id%d)", c.rows[i], c.identity[i]);
  std::printf(" | grad_h %d grad_audio %d\n", c.grad_h, c.grad_audio);
  const int spare = tile_stride(widest({&L.audio_attention, &L.expression_attention, &L.expression_encoder, &L.decoder}));
  const int fixed = int(L.audio_attention.param_count() + L.expression_attention.param_count() +
                        L.decoder.param_count()) + C + 2 * E + tile_stride(E - 1) + net_tile_floats(L.expression_encoder);
  const int per_row = 2 * tile_stride(X) + net_tile_floats(L.audio_attention) + net_tile_floats(L.expression_attention) +
                      net_tile_floats(L.decoder) + tile_stride(D) + 2 * spare;
  const Plan p = plan(seg, fixed, per_row, spare);

  Buf h(size_t(R) * G), audio(size_t(S) * C), expression(size_t(S) * E), grad_out(size_t(R) * D);
  h.uniform(-1, 1), audio.uniform(-1, 1), expression.uniform(-1, 1), grad_out.uniform(-1, 1);
  Nets aa(L.audio_attention, c), ea(L.expression_attention, c), ee(L.expression_encoder, c), dec(L.decoder, c);

  auto make_args = [&](std::vector<Buf>* g, Buf& gh, Buf& gaud, Buf& gexp) {
    FaceMotionBackwardArgs a{};
    a.seg = seg, a.layout = L, a.h = h.p, a.audio = audio.p, a.expression = expression.p, a.grad_out = grad_out.p;
    a.audio_attention = aa.weights(), a.expression_attention = ea.weights();
    a.expression_encoder = ee.weights(), a.decoder = dec.weights();
    a.grad_audio_attention = Nets::table(g[0], c.identity), a.grad_expression_attention = Nets::table(g[1], c.identity);
    a.grad_expression_encoder = Nets::table(g[2], c.identity), a.grad_decoder = Nets::table(g[3], c.identity);
    a.grad_h = c.grad_h ? gh.p : nullptr, a.grad_audio = c.grad_audio ? gaud.p : nullptr, a.grad_expression = gexp.p;
    return a;
  };
  std::vector<Buf> g_cpu[4] = {aa.grads_clone(), ea.grads_clone(), ee.grads_clone(), dec.grads_clone()};
  std::vector<Buf> g_gpu[4] = {aa.grads_clone(), ea.grads_clone(), ee.grads_clone(), dec.grads_clone()};
  Buf gh_cpu(size_t(R) * G), ga_cpu(size_t(S) * C), ge_cpu(size_t(S) * E);
  Buf gh_gpu(size_t(R) * G), ga_gpu(size_t(S) * C), ge_gpu(size_t(S) * E);
  for (Buf* b : {&gh_cpu, &ga_cpu, &ge_cpu, &gh_gpu, &ga_gpu, &ge_gpu}) b->fill(NAN);
  face_motion_backward_cpu(make_args(g_cpu, gh_cpu, ga_cpu, ge_cpu));
  const FaceMotionBackwardArgs args = make_args(g_gpu, gh_gpu, ga_gpu, ge_gpu);
  std::printf("  sizeof(FaceMotionBackwardArgs) %zu, sizeof(Segments) %zu\n", sizeof(args), sizeof(Segments));
  emu_launches().clear();
  face_motion_backward_cuda(args);
  for (auto& l : emu_launches())
    std::printf("  launched %s<<<%u, %u, %zu>>>, kernel params %zu bytes\n", l.kernel.c_str(), l.grid, l.block,
                l.shared, l.param_bytes);
  if (R > 0 && (emu_launches().empty() || emu_launches()[0].grid != unsigned(p.grid) ||
                emu_launches()[0].shared != p.shared_bytes))
    std::printf("  !! launcher's plan differs from the mirror\n");
  bool ok = true;
  double worst = 0;
  const char* names[4] = {"grad_audio_attention", "grad_expression_attention", "grad_expression_encoder",
                          "grad_decoder"};
  for (int n = 0; n < 4; ++n)
    for (size_t i = 0; i < g_cpu[n].size(); ++i) {
      std::string nm = std::string(names[n]) + "[id" + std::to_string(i) + "]";
      ok &= report(nm.c_str(), g_gpu[n][i], g_cpu[n][i], 1e-3, worst);
    }
  if (c.grad_h) ok &= report("grad_h", gh_gpu, gh_cpu, 1e-4, worst);
  if (c.grad_audio) ok &= report("grad_audio", ga_gpu, ga_cpu, 1e-3, worst);
  ok &= report("grad_expression", ge_gpu, ge_cpu, 1e-3, worst);
  std::printf("  => %s (worst %.3g)\n", ok ? "MATCH" : "MISMATCH", worst);
  return ok;
}

bool run_mouth(const Case& c) {
  const MouthMotionLayout L = mouth_layout();
  const Segments seg = segments_of(c.rows);
  const int S = seg.count, R = seg.rows(), G = L.grid_dim, C = L.code_dim;
  std::printf("mouth: G %d C %d X %d D %d S %d | rows", G, C, L.decoder.input(), L.decoder.output(),
              L.hook_scaler.input());
  for (size_t i = 0; i < c.rows.size(); ++i) std::printf(" %d(id%d)", c.rows[i], c.identity[i]);
  std::printf(" | grad_h %d grad_audio %d grad_hook %d\n", c.grad_h, c.grad_audio, c.grad_hook);
  const int spare = tile_stride(widest({&L.audio_attention, &L.decoder, &L.hook_scaler}));
  const int fixed =
      int(L.audio_attention.param_count() + L.decoder.param_count() + L.hook_scaler.param_count()) + C + kHookDim;
  const int per_row = 2 * tile_stride(L.decoder.input()) + 2 * tile_stride(L.hook_scaler.input()) +
                      net_tile_floats(L.audio_attention) + net_tile_floats(L.decoder) + net_tile_floats(L.hook_scaler) +
                      tile_stride(kHookDim) + tile_stride(L.decoder.output()) + 1 + 2 * spare;
  const Plan p = plan(seg, fixed, per_row, spare);

  Buf h(size_t(R) * G), audio(size_t(S) * C), hook(size_t(S) * kHookDim), grad_out(size_t(R) * kHookDim);
  h.uniform(-1, 1), audio.uniform(-1, 1), hook.uniform(-2, 2), grad_out.uniform(-1, 1);
  Nets aa(L.audio_attention, c), dec(L.decoder, c), hs(L.hook_scaler, c);
  auto make_args = [&](std::vector<Buf>* g, Buf& gh, Buf& gaud, Buf& ghook) {
    MouthMotionBackwardArgs a{};
    a.seg = seg, a.layout = L, a.h = h.p, a.audio = audio.p, a.hook = hook.p, a.grad_out = grad_out.p;
    a.audio_attention = aa.weights(), a.decoder = dec.weights(), a.hook_scaler = hs.weights();
    a.grad_audio_attention = Nets::table(g[0], c.identity), a.grad_decoder = Nets::table(g[1], c.identity);
    a.grad_hook_scaler = Nets::table(g[2], c.identity);
    a.grad_h = c.grad_h ? gh.p : nullptr, a.grad_audio = c.grad_audio ? gaud.p : nullptr;
    a.grad_hook = c.grad_hook ? ghook.p : nullptr;
    return a;
  };
  std::vector<Buf> g_cpu[3] = {aa.grads_clone(), dec.grads_clone(), hs.grads_clone()};
  std::vector<Buf> g_gpu[3] = {aa.grads_clone(), dec.grads_clone(), hs.grads_clone()};
  Buf gh_cpu(size_t(R) * G), ga_cpu(size_t(S) * C), gk_cpu(size_t(S) * kHookDim);
  Buf gh_gpu(size_t(R) * G), ga_gpu(size_t(S) * C), gk_gpu(size_t(S) * kHookDim);
  for (Buf* b : {&gh_cpu, &ga_cpu, &gk_cpu, &gh_gpu, &ga_gpu, &gk_gpu}) b->fill(NAN);
  mouth_motion_backward_cpu(make_args(g_cpu, gh_cpu, ga_cpu, gk_cpu));
  const MouthMotionBackwardArgs args = make_args(g_gpu, gh_gpu, ga_gpu, gk_gpu);
  std::printf("  sizeof(MouthMotionBackwardArgs) %zu\n", sizeof(args));
  emu_launches().clear();
  mouth_motion_backward_cuda(args);
  for (auto& l : emu_launches())
    std::printf("  launched %s<<<%u, %u, %zu>>>, kernel params %zu bytes\n", l.kernel.c_str(), l.grid, l.block,
                l.shared, l.param_bytes);
  if (R > 0 && (emu_launches().empty() || emu_launches()[0].grid != unsigned(p.grid) ||
                emu_launches()[0].shared != p.shared_bytes))
    std::printf("  !! launcher's plan differs from the mirror\n");
  bool ok = true;
  double worst = 0;
  const char* names[3] = {"grad_audio_attention", "grad_decoder", "grad_hook_scaler"};
  for (int n = 0; n < 3; ++n)
    for (size_t i = 0; i < g_cpu[n].size(); ++i) {
      std::string nm = std::string(names[n]) + "[id" + std::to_string(i) + "]";
      ok &= report(nm.c_str(), g_gpu[n][i], g_cpu[n][i], 1e-3, worst);
    }
  if (c.grad_h) ok &= report("grad_h", gh_gpu, gh_cpu, 1e-4, worst);
  if (c.grad_audio) ok &= report("grad_audio", ga_gpu, ga_cpu, 1e-3, worst);
  if (c.grad_hook) ok &= report("grad_hook", gk_gpu, gk_cpu, 1e-3, worst);
  std::printf("  => %s (worst %.3g)\n", ok ? "MATCH" : "MISMATCH", worst);
  return ok;
}

std::vector<int> ints(const std::string& s) {
  std::vector<int> v;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    v.push_back(std::atoi(s.substr(i, j - i).c_str()));
    i = j + 1;
  }
  return v;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  std::vector<Case> cases;
  if (argc > 2) {
    Case c;
    std::string spec = argv[2];
    const size_t colon = spec.find(':');
    c.rows = ints(spec.substr(0, colon));
    if (colon != std::string::npos) c.identity = ints(spec.substr(colon + 1));
    else
      for (size_t i = 0; i < c.rows.size(); ++i) c.identity.push_back(int(i));
    for (int i = 3; i < argc; ++i) {
      if (!std::strcmp(argv[i], "nogradh")) c.grad_h = false;
      if (!std::strcmp(argv[i], "noaudio")) c.grad_audio = false;
      if (!std::strcmp(argv[i], "nohook")) c.grad_hook = false;
    }
    cases.push_back(c);
  } else {
    for (int r : {1, 31, 32, 33, 5000, 40000}) cases.push_back({{r}, {0}});
    cases.push_back({{30000, 0, 17999, 1}, {0, 1, 0, 2}});  // the GPU parity test's batch
    cases.push_back({{100, 7, 0, 64, 3000}, {0, 1, 2, 0, 1}});
    Case c{{40000}, {0}};
    c.grad_h = false, c.grad_audio = false, c.grad_hook = false;
    cases.push_back(c);
  }
  bool ok = true;
  for (const Case& c : cases) {
    if (which == "face" || which == "all") ok &= run_face(c);
    if (which == "mouth" || which == "all") ok &= run_mouth(c);
    std::fflush(stdout);
  }
  std::printf("%s\n", ok ? "ALL MATCH" : "SOME MISMATCH");
  return ok ? 0 : 1;
}
