#include "../ops/axpy.h"
#include "../ops/contrast_loss.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {
// A [n, stride] f32 matrix whose first three columns hold a displacement.
Tensor& displacement_arg(const Napi::Value& value, const char* name, Device device, int64_t n) {
  Tensor& t = tensor_on(value, name, device, DType::F32, {n, -1});
  if (t.shape().back() < 3) fail(std::string(name) + ": needs at least 3 columns (a displacement), has " +
                               std::to_string(t.shape().back()));
  return t;
}
}  // namespace

Napi::Value contrast_loss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& a = displacement_arg(info[1], "a", device, -1);
    const int64_t n = a.shape()[0];
    Tensor& b = displacement_arg(info[2], "b", device, n);
    ContrastLossArgs c;
    c.n = n;
    c.a = a.ptr<float>();
    c.a_stride = static_cast<int32_t>(a.shape()[1]);
    c.b = b.ptr<float>();
    c.b_stride = static_cast<int32_t>(b.shape()[1]);
    c.weight = static_cast<float>(info[3].As<Napi::Number>().DoubleValue());
    c.loss = tensor_on(info[4], "loss", device, DType::F32, {1}).ptr<float>();
    const auto grad = [&](int i, const char* name, const Tensor& like) {
      return info[i].IsNull() ? nullptr : tensor_on(info[i], name, device, DType::F32, {n, like.shape()[1]}).ptr<float>();
    };
    c.grad_a = grad(5, "gradA", a);
    c.grad_b = grad(6, "gradB", b);
    SC_DISPATCH(device, contrast_loss, c);
    return info.Env().Undefined();
  });
}

Napi::Value axpy(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    AxpyArgs a;
    a.alpha = static_cast<float>(info[1].As<Napi::Number>().DoubleValue());
    Tensor& x = flat_f32(info[2], "x", device, -1);
    a.n = x.numel();
    a.x = x.ptr<float>();
    a.y = flat_f32(info[3], "y", device, a.n).ptr<float>();
    SC_DISPATCH(device, axpy, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
