#include <cmath>
#include <string>
#include <vector>

#include "../ops/mlp.h"
#include "args.h"
#include "mlp_args.h"
#include "ops.h"

namespace splatcast {

namespace {
int whole_number(const Napi::Value& v, const std::string& what) {
  if (!v.IsNumber()) fail(what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || std::fabs(d) > 1e9) fail(what + " must be a whole number, got " + std::to_string(d));
  return static_cast<int>(d);
}
}  // namespace

MlpLayout mlp_shape_arg(const Napi::Value& value, const char* name) {
  const std::string n(name);
  if (!value.IsObject()) fail(n + " must be an MLP shape { input, hidden, output, bias }");
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value hidden_value = o.Get("hidden");
  if (!hidden_value.IsArray()) fail(n + ".hidden must be an array of layer widths");
  Napi::Array hidden_array = hidden_value.As<Napi::Array>();
  if (hidden_array.Length() >= static_cast<uint32_t>(kMaxMlpLayers))
    fail(n + " must have 0.." + std::to_string(kMaxMlpLayers - 1) + " hidden layers, got " +
         std::to_string(hidden_array.Length()));
  std::vector<int> hidden(hidden_array.Length());
  for (uint32_t i = 0; i < hidden_array.Length(); ++i)
    hidden[i] = whole_number(hidden_array.Get(i), n + ".hidden[" + std::to_string(i) + "]");
  Napi::Value bias = o.Get("bias");
  if (!bias.IsBoolean()) fail(n + ".bias must be true or false");
  return make_mlp_layout(name, whole_number(o.Get("input"), n + ".input"), hidden.data(),
                         static_cast<int>(hidden.size()), whole_number(o.Get("output"), n + ".output"),
                         bias.As<Napi::Boolean>().Value());
}

MlpLayout mlp_shape_of(const Napi::Object& shapes, const char* key) { return mlp_shape_arg(shapes.Get(key), key); }

PerSegment<const float*> mlp_weights_of(const Napi::Value& weights, const char* key, const Segments& segments,
                                        Device device, const MlpLayout& net) {
  if (!weights.IsObject()) fail("weights must be an object of per-segment tensor lists");
  const std::string name = std::string("weights.") + key;
  return per_segment_f32(weights.As<Napi::Object>().Get(key), name.c_str(), segments, device, net.param_count());
}

namespace binding {

Napi::Value mlp_layout(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const MlpLayout L = mlp_shape_arg(info[0], "mlp");
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("paramCount", Napi::Number::New(info.Env(), static_cast<double>(L.param_count())));
    return out;
  });
}

Napi::Value mlp_forward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    MlpArgs a{};
    a.layout = mlp_shape_arg(info[1], "mlp");
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.in = tensor_on(info[3], "input", device, DType::F32, {rows, a.layout.input()}).ptr<float>();
    a.weights = per_segment_f32(info[4], "weights", a.seg, device, a.layout.param_count());
    a.out = tensor_on(info[5], "out", device, DType::F32, {rows, a.layout.output()}).ptr<float>();
    SC_DISPATCH(device, mlp_forward, a);
    return info.Env().Undefined();
  });
}

}  // namespace binding
}  // namespace splatcast
