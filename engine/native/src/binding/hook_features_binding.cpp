#include <string>

#include "../ops/hook_features.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {
int32_t top_k_arg(const Napi::Value& value) {
  if (!value.IsNumber()) fail("topK must be a number");
  const int32_t k = value.As<Napi::Number>().Int32Value();
  if (k < 1 || k > kMaxHookTopK) fail("topK must be 1.." + std::to_string(kMaxHookTopK) + ", got " + std::to_string(k));
  return k;
}
}  // namespace

Napi::Value hook_features(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    HookFeaturesArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    a.displacement = tensor_on(info[2], "displacement", device, DType::F32, {a.seg.rows(), 3}).ptr<float>();
    a.top_k = top_k_arg(info[3]);
    a.out = tensor_on(info[4], "out", device, DType::F32, {a.seg.count, 3}).ptr<float>();
    SC_DISPATCH(device, hook_features, a);
    return info.Env().Undefined();
  });
}

Napi::Value hook_features_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    HookFeaturesBackwardArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    a.displacement = tensor_on(info[2], "displacement", device, DType::F32, {a.seg.rows(), 3}).ptr<float>();
    a.top_k = top_k_arg(info[3]);
    a.grad_out = tensor_on(info[4], "gradOut", device, DType::F32, {a.seg.count, 3}).ptr<float>();
    a.grad_displacement =
        tensor_on(info[5], "gradDisplacement", device, DType::F32, {a.seg.rows(), 3}).ptr<float>();
    SC_DISPATCH(device, hook_features_backward, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
