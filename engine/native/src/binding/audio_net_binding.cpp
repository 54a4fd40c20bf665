#include "../ops/audio_net.h"
#include "../ops/audio_net_backward.h"
#include "args.h"
#include "grad_args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {
Napi::Object config_arg(const Napi::Value& value, const char* what) {
  if (!value.IsObject()) fail(std::string(what) + " must be an object");
  return value.As<Napi::Object>();
}

int required_int(const Napi::Object& o, const char* key, const char* what) {
  if (!o.Get(key).IsNumber()) fail(std::string(what) + "." + key + " must be a number");
  return int_arg(o, key, 0);
}

// Reads { featureDim, window, codeDim }.
AudioNetLayout audio_net_layout_arg(const Napi::Value& value) {
  Napi::Object o = config_arg(value, "AudioNet config");
  return make_audio_net_layout(required_int(o, "featureDim", "AudioNet config"),
                               required_int(o, "window", "AudioNet config"),
                               required_int(o, "codeDim", "AudioNet config"));
}

// Reads { frames, codeDim }.
AudioAttNetLayout audio_att_net_layout_arg(const Napi::Value& value) {
  Napi::Object o = config_arg(value, "AudioAttNet config");
  return make_audio_att_net_layout(required_int(o, "frames", "AudioAttNet config"),
                                   required_int(o, "codeDim", "AudioAttNet config"));
}

Napi::Value param_count_object(Napi::Env env, int count) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("paramCount", Napi::Number::New(env, count));
  return out;
}
}  // namespace

Napi::Value audio_net_layout(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return param_count_object(info.Env(), audio_net_layout_arg(info[0]).param_count);
  });
}

Napi::Value audio_net_forward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    AudioNetArgs a{};
    a.layout = audio_net_layout_arg(info[1]);
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.windows = tensor_on(info[3], "windows", device, DType::F32, {rows, kAudioWindow, a.layout.feature_dim})
                    .ptr<float>();
    a.weights = per_segment_f32(info[4], "weights", a.seg, device, a.layout.param_count);
    a.codes = tensor_on(info[5], "codes", device, DType::F32, {rows, a.layout.code_dim}).ptr<float>();
    SC_DISPATCH(device, audio_net_forward, a);
    return info.Env().Undefined();
  });
}

Napi::Value audio_att_net_layout(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return param_count_object(info.Env(), audio_att_net_layout_arg(info[0]).param_count);
  });
}

Napi::Value audio_att_net_forward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    AudioAttNetArgs a{};
    a.layout = audio_att_net_layout_arg(info[1]);
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.codes =
        tensor_on(info[3], "codes", device, DType::F32, {rows, a.layout.frames, a.layout.code_dim}).ptr<float>();
    a.weights = per_segment_f32(info[4], "weights", a.seg, device, a.layout.param_count);
    a.out = tensor_on(info[5], "out", device, DType::F32, {rows, a.layout.code_dim}).ptr<float>();
    SC_DISPATCH(device, audio_att_net_forward, a);
    return info.Env().Undefined();
  });
}

Napi::Value audio_net_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    AudioNetBackwardArgs a{};
    a.layout = audio_net_layout_arg(info[1]);
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.windows = tensor_on(info[3], "windows", device, DType::F32, {rows, kAudioWindow, a.layout.feature_dim})
                    .ptr<float>();
    a.weights = per_segment_f32(info[4], "weights", a.seg, device, a.layout.param_count);
    a.grad_codes = tensor_on(info[5], "gradCodes", device, DType::F32, {rows, a.layout.code_dim}).ptr<float>();
    a.grad_weights = per_segment_grad_f32(info[6], "gradWeights", a.seg, device, a.layout.param_count);
    a.grad_windows = optional_f32(info[7], "gradWindows", device, {rows, kAudioWindow, a.layout.feature_dim});
    SC_DISPATCH(device, audio_net_backward, a);
    return info.Env().Undefined();
  });
}

Napi::Value audio_att_net_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    AudioAttNetBackwardArgs a{};
    a.layout = audio_att_net_layout_arg(info[1]);
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.codes =
        tensor_on(info[3], "codes", device, DType::F32, {rows, a.layout.frames, a.layout.code_dim}).ptr<float>();
    a.weights = per_segment_f32(info[4], "weights", a.seg, device, a.layout.param_count);
    a.grad_out = tensor_on(info[5], "gradOut", device, DType::F32, {rows, a.layout.code_dim}).ptr<float>();
    a.grad_weights = per_segment_grad_f32(info[6], "gradWeights", a.seg, device, a.layout.param_count);
    a.grad_codes = optional_f32(info[7], "gradCodes", device, {rows, a.layout.frames, a.layout.code_dim});
    SC_DISPATCH(device, audio_att_net_backward, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
