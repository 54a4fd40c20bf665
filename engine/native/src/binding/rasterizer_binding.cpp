// RasterWorkspace: the rasterizer's growable scratch memory as a JavaScript object whose forward() renders a batch
// and whose backward() differentiates the last training forward.
#include <cmath>
#include <memory>
#include <sstream>
#include <string>

#include "../core/cuda_runtime.h"
#include "../ops/rasterizer_backward.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

int32_t required_int(const Napi::Object& o, const char* key, int32_t lo, int32_t hi) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber())
    fail(std::string("option ") + key + " must be a number, got " + (v.IsUndefined() ? "nothing" : "another type"));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || d != static_cast<int32_t>(d))
    fail(std::string("option ") + key + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
         ", got " + number_text(d));
  return static_cast<int32_t>(d);
}

RasterizerOptions options_arg(const Napi::Value& value) {
  if (!value.IsObject()) fail("rasterizer options must be an object");
  Napi::Object o = value.As<Napi::Object>();
  RasterizerOptions opt{};
  opt.width = required_int(o, "width", 1, kMaxImageSide);
  opt.height = required_int(o, "height", 1, kMaxImageSide);
  opt.sh_degree = required_int(o, "shDegree", 0, kMaxShDegree);
  opt.near_plane = float_arg(o, "near", 0.01f);
  opt.far_plane = float_arg(o, "far", INFINITY);
  if (!(opt.near_plane > 0.f && opt.far_plane > opt.near_plane))
    fail("options near and far must satisfy 0 < near < far, got near " + number_text(opt.near_plane) + ", far " +
         number_text(opt.far_plane));
  return opt;
}

// One tensor per segment holding at least rows_of(s) * per_row values (the identity's data, read at local rows).
PerSegment<const float*> per_segment_rows(const Napi::Value& value, const char* name, const Segments& seg,
                                          Device device, int64_t per_row) {
  if (!value.IsArray()) fail(std::string(name) + " must be an array of tensors, one per segment");
  Napi::Array list = value.As<Napi::Array>();
  if (static_cast<int32_t>(list.Length()) != seg.count)
    fail(std::string(name) + " has " + std::to_string(list.Length()) + " tensors for " + std::to_string(seg.count) +
         " segments");
  PerSegment<const float*> out;
  for (int32_t s = 0; s < seg.count; ++s) {
    const std::string label = std::string(name) + "[" + std::to_string(s) + "]";
    Tensor& t = TensorWrap::unwrap(list.Get(static_cast<uint32_t>(s)), label.c_str());
    const int64_t need = static_cast<int64_t>(seg.rows_of(s)) * per_row;
    if (t.dtype() != DType::F32 || t.device() != device || t.numel() < need)
      fail(label + " must be a " + (device == Device::Cpu ? "cpu" : "cuda") + " f32 tensor of at least " +
           std::to_string(need) + " values (" + std::to_string(seg.rows_of(s)) + " Gaussians), got " + t.describe());
    out.at[s] = t.ptr<float>();
  }
  return out;
}

bool present(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && !info[i].IsUndefined() && !info[i].IsNull();
}

// The backward recomputes from the forward's inputs, so it must be handed the very same tensors.
void require_same(const void* got, const void* forward, const std::string& name) {
  if (got != forward)
    fail("backward must be given the training forward's own input tensors, unchanged; " + name +
         " is a different tensor");
}

class RasterWorkspaceWrap : public Napi::ObjectWrap<RasterWorkspaceWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "RasterWorkspace",
                       {
                           InstanceMethod<&RasterWorkspaceWrap::forward>("forward"),
                           InstanceMethod<&RasterWorkspaceWrap::backward>("backward"),
                           InstanceAccessor<&RasterWorkspaceWrap::reserved_bytes>("reservedBytes"),
                           InstanceMethod<&RasterWorkspaceWrap::dispose>("dispose"),
                       });
  }

  // new RasterWorkspace(device: 0 | 1)
  explicit RasterWorkspaceWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RasterWorkspaceWrap>(info) {
    guarded(info, [&]() -> Napi::Value {
      const Device device = device_arg(info[0]);
      if (device == Device::Cuda && !cuda::compiled_in())
        fail("RasterWorkspace on cuda: this build of the engine has no CUDA backend");
      workspace_ = std::make_unique<RasterWorkspace>(device);
      return info.Env().Undefined();
    });
  }

 private:
  RasterWorkspace& live() {
    if (!workspace_) fail("RasterWorkspace was disposed");
    return *workspace_;
  }

  // forward(options, rowCounts, means, rotations, scales, opacities[], sh[], cameras, rgb, alpha, depth?, train?)
  //   -> number
  Napi::Value forward(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      RasterWorkspace& ws = live();
      const Device device = ws.device;
      RasterizerArgs a{};
      a.opt = options_arg(info[0]);
      a.seg = segments_arg(info[1], "rowCounts");
      const int64_t rows = a.seg.rows(), B = a.seg.count, H = a.opt.height, W = a.opt.width;
      a.means = tensor_on(info[2], "means", device, DType::F32, {rows, 3}).ptr<float>();
      a.rotations = tensor_on(info[3], "rotations", device, DType::F32, {rows, 4}).ptr<float>();
      a.scales = tensor_on(info[4], "scales", device, DType::F32, {rows, 3}).ptr<float>();
      a.opacities = per_segment_rows(info[5], "opacities", a.seg, device, 1);
      a.sh = per_segment_rows(info[6], "sh", a.seg, device, a.opt.sh_coeffs() * 3);
      a.cameras = tensor_on(info[7], "cameras", device, DType::F32, {B, kCameraStride}).ptr<float>();
      a.rgb = tensor_on(info[8], "rgb", device, DType::F32, {B, H, W, 3}).ptr<float>();
      a.alpha = tensor_on(info[9], "alpha", device, DType::F32, {B, H, W}).ptr<float>();
      a.depth = present(info, 10) ? tensor_on(info[10], "depth", device, DType::F32, {B, H, W}).ptr<float>() : nullptr;
      const bool train = present(info, 11) && info[11].ToBoolean().Value();
#ifdef SPLATCAST_CUDA
      const int64_t n =
          device == Device::Cuda ? rasterizer_forward_cuda(a, ws, train) : rasterizer_forward_cpu(a, ws, train);
#else
      const int64_t n = rasterizer_forward_cpu(a, ws, train);
#endif
      return Napi::Number::New(info.Env(), static_cast<double>(n));
    });
  }

  // backward(means, rotations, scales, opacities[], sh[], cameras, dRgb, dAlpha, dDepth?, dMeans, dRotations,
  //   dScales, dOpacities, dSh, means2dNorm?, radii?): the inputs are the last training forward's own tensors.
  Napi::Value backward(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      RasterWorkspace& ws = live();
      const RasterContext& ctx = ws.context;
      if (!ctx.valid)
        fail("backward needs a training forward (train = true) just before it on this workspace; the last forward "
             "was not one, or failed");
      const Device device = ws.device;
      RasterizerArgs a{};
      a.opt = ctx.opt;
      a.seg = ctx.seg;
      const int64_t rows = a.seg.rows(), B = a.seg.count, H = a.opt.height, W = a.opt.width, K = a.opt.sh_coeffs();
      a.means = tensor_on(info[0], "means", device, DType::F32, {rows, 3}).ptr<float>();
      a.rotations = tensor_on(info[1], "rotations", device, DType::F32, {rows, 4}).ptr<float>();
      a.scales = tensor_on(info[2], "scales", device, DType::F32, {rows, 3}).ptr<float>();
      a.opacities = per_segment_rows(info[3], "opacities", a.seg, device, 1);
      a.sh = per_segment_rows(info[4], "sh", a.seg, device, K * 3);
      a.cameras = tensor_on(info[5], "cameras", device, DType::F32, {B, kCameraStride}).ptr<float>();
      require_same(a.means, ctx.means, "means");
      require_same(a.rotations, ctx.rotations, "rotations");
      require_same(a.scales, ctx.scales, "scales");
      require_same(a.cameras, ctx.cameras, "cameras");
      for (int32_t s = 0; s < a.seg.count; ++s) {
        require_same(a.opacities.at[s], ctx.opacities.at[s], "opacities[" + std::to_string(s) + "]");
        require_same(a.sh.at[s], ctx.sh.at[s], "sh[" + std::to_string(s) + "]");
      }
      RasterizerGrads g{};
      g.rgb = tensor_on(info[6], "dRgb", device, DType::F32, {B, H, W, 3}).ptr<float>();
      g.alpha = tensor_on(info[7], "dAlpha", device, DType::F32, {B, H, W}).ptr<float>();
      g.depth = present(info, 8) ? tensor_on(info[8], "dDepth", device, DType::F32, {B, H, W}).ptr<float>() : nullptr;
      g.means = tensor_on(info[9], "dMeans", device, DType::F32, {rows, 3}).ptr<float>();
      g.rotations = tensor_on(info[10], "dRotations", device, DType::F32, {rows, 4}).ptr<float>();
      g.scales = tensor_on(info[11], "dScales", device, DType::F32, {rows, 3}).ptr<float>();
      g.opacities = tensor_on(info[12], "dOpacities", device, DType::F32, {rows}).ptr<float>();
      g.sh = tensor_on(info[13], "dSh", device, DType::F32, {rows, K, 3}).ptr<float>();
      g.means2d_norm =
          present(info, 14) ? tensor_on(info[14], "means2dGradNorm", device, DType::F32, {rows}).ptr<float>() : nullptr;
      g.radii = present(info, 15) ? tensor_on(info[15], "radii", device, DType::F32, {rows}).ptr<float>() : nullptr;
#ifdef SPLATCAST_CUDA
      if (device == Device::Cuda) rasterizer_backward_cuda(a, g, ws);
      else rasterizer_backward_cpu(a, g, ws);
#else
      rasterizer_backward_cpu(a, g, ws);
#endif
      return info.Env().Undefined();
    });
  }

  Napi::Value reserved_bytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), workspace_ ? static_cast<double>(workspace_->reserved_bytes()) : 0.0);
  }

  Napi::Value dispose(const Napi::CallbackInfo& info) {
    workspace_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<RasterWorkspace> workspace_;
};

}  // namespace

Napi::Function raster_workspace_class(Napi::Env env) { return RasterWorkspaceWrap::define(env); }

}  // namespace splatcast::binding
