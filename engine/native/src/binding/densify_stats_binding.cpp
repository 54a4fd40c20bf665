#include "../ops/densify_stats.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

Napi::Value densify_stats(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& grad_norm = flat_f32(info[1], "gradNorm", device, -1);
    const int64_t n = grad_norm.numel();
    DensifyStatsArgs a;
    a.n = n;
    a.grad_norm = grad_norm.ptr<float>();
    a.radii = flat_f32(info[2], "radii", device, n).ptr<float>();
    a.accum = flat_f32(info[3], "accum", device, n).ptr<float>();
    a.count = flat_f32(info[4], "count", device, n).ptr<float>();
    a.max_radii = flat_f32(info[5], "maxRadii", device, n).ptr<float>();
    SC_DISPATCH(device, densify_stats, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
