#include <string>

#include "../ops/hook_features.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

Napi::Value hook_features(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    HookFeaturesArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    a.displacement = tensor_on(info[2], "displacement", device, DType::F32, {a.seg.rows(), 3}).ptr<float>();
    if (!info[3].IsNumber()) fail("topK must be a number");
    a.top_k = info[3].As<Napi::Number>().Int32Value();
    if (a.top_k < 1 || a.top_k > kMaxHookTopK)
      fail("topK must be 1.." + std::to_string(kMaxHookTopK) + ", got " + std::to_string(a.top_k));
    a.out = tensor_on(info[4], "out", device, DType::F32, {a.seg.count, 3}).ptr<float>();
    SC_DISPATCH(device, hook_features, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
