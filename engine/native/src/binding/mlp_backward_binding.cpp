#include "../ops/mlp_backward.h"
#include "args.h"
#include "grad_args.h"
#include "mlp_args.h"
#include "ops.h"

namespace splatcast::binding {

Napi::Value mlp_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    MlpBackwardArgs a{};
    a.layout = mlp_shape_arg(info[1], "mlp");
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows(), params = a.layout.param_count();
    a.in = tensor_on(info[3], "input", device, DType::F32, {rows, a.layout.input()}).ptr<float>();
    a.weights = per_segment_f32(info[4], "weights", a.seg, device, params);
    a.grad_out = tensor_on(info[5], "gradOut", device, DType::F32, {rows, a.layout.output()}).ptr<float>();
    a.grad_weights = per_segment_grad_f32(info[6], "gradWeights", a.seg, device, params);
    a.grad_in = optional_f32(info[7], "gradInput", device, {rows, a.layout.input()});
    SC_DISPATCH(device, mlp_backward, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
