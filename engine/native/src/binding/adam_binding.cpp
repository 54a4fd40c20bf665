#include <cmath>

#include "../core/cuda_runtime.h"
#include "../ops/adam.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

Napi::Value adam_step(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& params = flat_f32(info[1], "params", device, -1);
    const int64_t n = params.numel();
    AdamArgs a;
    a.n = n;
    a.params = params.ptr<float>();
    a.grads = flat_f32(info[2], "grads", device, n).ptr<float>();
    a.m = flat_f32(info[3], "m", device, n).ptr<float>();
    a.v = flat_f32(info[4], "v", device, n).ptr<float>();
    if (!info[5].IsObject()) fail("adamStep options must be an object");
    Napi::Object o = info[5].As<Napi::Object>();
    a.lr = float_arg(o, "lr", a.lr);
    a.beta1 = float_arg(o, "beta1", a.beta1);
    a.beta2 = float_arg(o, "beta2", a.beta2);
    a.eps = float_arg(o, "eps", a.eps);
    a.weight_decay = float_arg(o, "weightDecay", a.weight_decay);
    a.grad_scale = float_arg(o, "gradScale", a.grad_scale);
    const int32_t step = int_arg(o, "step", 0);
    if (step < 1) fail("adamStep: step must be >= 1 (the count of updates including this one)");
    if (!(a.beta1 >= 0.f && a.beta1 < 1.f && a.beta2 >= 0.f && a.beta2 < 1.f)) fail("adamStep: betas must be in [0, 1)");
    if (!(a.lr >= 0.f) || !(a.eps > 0.f) || !std::isfinite(a.grad_scale)) fail("adamStep: lr >= 0, eps > 0, finite gradScale");
    a.bias_correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(a.beta1), step));
    a.bias_correction2 = static_cast<float>(1.0 - std::pow(static_cast<double>(a.beta2), step));
    SC_DISPATCH(device, adam_step, a);
    return info.Env().Undefined();
  });
}

Napi::Value squared_norm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& x = flat_f32(info[1], "x", device, -1);
    double result = 0.0;
    SquaredNormArgs a;
    a.n = x.numel();
    a.x = x.ptr<float>();
    if (device == Device::Cpu) {
      a.out = &result;
      squared_norm_cpu(a);
    } else {
      // One device double reused by every call (process lifetime): clipping runs every step.
      static double* scratch = static_cast<double*>(cuda::malloc_device(sizeof(double)));
      a.out = scratch;
      SC_DISPATCH(device, squared_norm, a);
      cuda::download(&result, scratch, sizeof(double));
    }
    return Napi::Number::New(info.Env(), result);
  });
}

}  // namespace splatcast::binding
