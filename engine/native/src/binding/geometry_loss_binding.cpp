#include "../ops/geometry_loss.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

Napi::Value geometry_loss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& depth = tensor_on(info[1], "depth", device, DType::F32, {1, -1, -1});
    const int64_t h = depth.shape()[1], w = depth.shape()[2];
    GeometryLossArgs g;
    g.height = static_cast<int32_t>(h);
    g.width = static_cast<int32_t>(w);
    g.depth = depth.ptr<float>();
    g.alpha = tensor_on(info[2], "alpha", device, DType::F32, {1, h, w}).ptr<float>();
    g.prior = tensor_on(info[3], "prior", device, DType::F32, {1, h, w, 4}).ptr<float>();
    const Napi::Object o = info[4].As<Napi::Object>();
    g.fx = float_arg(o, "fx", 0.f);
    g.fy = float_arg(o, "fy", 0.f);
    g.cx = float_arg(o, "cx", 0.f);
    g.cy = float_arg(o, "cy", 0.f);
    if (!(g.fx > 0.f && g.fy > 0.f)) fail("geometryLoss: intrinsics fx and fy must be positive");
    g.weight_depth = float_arg(o, "weightDepth", 0.f);
    g.weight_normal = float_arg(o, "weightNormal", 0.f);
    // The double-precision sums live in an f32 tensor of twice their count.
    g.sums = reinterpret_cast<double*>(flat_f32(info[5], "workspace", device, 2 * kGeometrySums).ptr<float>());
    g.loss = tensor_on(info[6], "loss", device, DType::F32, {2}).ptr<float>();
    if (info[7].IsNull()) {
      g.grad_depth = g.grad_alpha = nullptr;
    } else {
      g.grad_depth = tensor_on(info[7], "gradDepth", device, DType::F32, {1, h, w}).ptr<float>();
      g.grad_alpha = tensor_on(info[8], "gradAlpha", device, DType::F32, {1, h, w}).ptr<float>();
    }
    SC_DISPATCH(device, geometry_loss, g);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
