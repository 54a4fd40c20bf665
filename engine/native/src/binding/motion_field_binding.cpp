#include "../ops/motion_field.h"
#include "../ops/motion_field_backward.h"
#include "args.h"
#include "grad_args.h"
#include "mlp_args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {
Napi::Object shapes_arg(const Napi::Value& value, const char* branch) {
  if (!value.IsObject()) fail(std::string(branch) + " motion-field shapes must be an object of MLP shapes");
  return value.As<Napi::Object>();
}

FaceMotionLayout face_layout_arg(const Napi::Value& value) {
  Napi::Object o = shapes_arg(value, "face");
  return make_face_motion_layout(mlp_shape_of(o, "audioAttention"), mlp_shape_of(o, "expressionAttention"),
                                 mlp_shape_of(o, "expressionEncoder"), mlp_shape_of(o, "decoder"));
}

MouthMotionLayout mouth_layout_arg(const Napi::Value& value) {
  Napi::Object o = shapes_arg(value, "mouth");
  return make_mouth_motion_layout(mlp_shape_of(o, "audioAttention"), mlp_shape_of(o, "decoder"),
                                  mlp_shape_of(o, "hookScaler"));
}

// A per-segment gradient list stored under `key` of `grads`, each tensor holding net.param_count() values.
PerSegment<float*> grad_weights_of(const Napi::Value& grads, const char* key, const Segments& segments, Device device,
                                   const MlpLayout& net) {
  if (!grads.IsObject()) fail("gradWeights must be an object of per-segment tensor lists");
  const std::string name = std::string("gradWeights.") + key;
  return per_segment_grad_f32(grads.As<Napi::Object>().Get(key), name.c_str(), segments, device, net.param_count());
}

Napi::Object param_counts(Napi::Env env, std::initializer_list<std::pair<const char*, const MlpLayout*>> nets) {
  Napi::Object out = Napi::Object::New(env);
  for (const auto& [key, net] : nets) out.Set(key, Napi::Number::New(env, static_cast<double>(net->param_count())));
  return out;
}
}  // namespace

Napi::Value face_motion_layout(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const FaceMotionLayout L = face_layout_arg(info[0]);
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("gridDim", Napi::Number::New(env, L.grid_dim));
    out.Set("codeDim", Napi::Number::New(env, L.code_dim));
    out.Set("expressionDim", Napi::Number::New(env, L.expression_dim));
    out.Set("outputDim", Napi::Number::New(env, L.decoder.output()));
    out.Set("paramCounts", param_counts(env, {{"audioAttention", &L.audio_attention},
                                              {"expressionAttention", &L.expression_attention},
                                              {"expressionEncoder", &L.expression_encoder},
                                              {"decoder", &L.decoder}}));
    return out;
  });
}

Napi::Value face_motion_forward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    FaceMotionArgs a{};
    a.layout = face_layout_arg(info[1]);
    const FaceMotionLayout& L = a.layout;
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows(), segments = a.seg.count;
    a.h = tensor_on(info[3], "h", device, DType::F32, {rows, L.grid_dim}).ptr<float>();
    a.audio = tensor_on(info[4], "audio", device, DType::F32, {segments, L.code_dim}).ptr<float>();
    a.expression = tensor_on(info[5], "expression", device, DType::F32, {segments, L.expression_dim}).ptr<float>();
    a.audio_attention = mlp_weights_of(info[6], "audioAttention", a.seg, device, L.audio_attention);
    a.expression_attention = mlp_weights_of(info[6], "expressionAttention", a.seg, device, L.expression_attention);
    a.expression_encoder = mlp_weights_of(info[6], "expressionEncoder", a.seg, device, L.expression_encoder);
    a.decoder = mlp_weights_of(info[6], "decoder", a.seg, device, L.decoder);
    a.out = tensor_on(info[7], "out", device, DType::F32, {rows, L.decoder.output()}).ptr<float>();
    SC_DISPATCH(device, face_motion_forward, a);
    return info.Env().Undefined();
  });
}

Napi::Value mouth_motion_layout(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const MouthMotionLayout L = mouth_layout_arg(info[0]);
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("gridDim", Napi::Number::New(env, L.grid_dim));
    out.Set("codeDim", Napi::Number::New(env, L.code_dim));
    out.Set("outputDim", Napi::Number::New(env, kHookDim));
    out.Set("paramCounts", param_counts(env, {{"audioAttention", &L.audio_attention},
                                              {"decoder", &L.decoder},
                                              {"hookScaler", &L.hook_scaler}}));
    return out;
  });
}

Napi::Value mouth_motion_forward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    MouthMotionArgs a{};
    a.layout = mouth_layout_arg(info[1]);
    const MouthMotionLayout& L = a.layout;
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows(), segments = a.seg.count;
    a.h = tensor_on(info[3], "h", device, DType::F32, {rows, L.grid_dim}).ptr<float>();
    a.audio = tensor_on(info[4], "audio", device, DType::F32, {segments, L.code_dim}).ptr<float>();
    a.hook = tensor_on(info[5], "hook", device, DType::F32, {segments, kHookDim}).ptr<float>();
    a.audio_attention = mlp_weights_of(info[6], "audioAttention", a.seg, device, L.audio_attention);
    a.decoder = mlp_weights_of(info[6], "decoder", a.seg, device, L.decoder);
    a.hook_scaler = mlp_weights_of(info[6], "hookScaler", a.seg, device, L.hook_scaler);
    a.out = tensor_on(info[7], "out", device, DType::F32, {rows, kHookDim}).ptr<float>();
    SC_DISPATCH(device, mouth_motion_forward, a);
    return info.Env().Undefined();
  });
}

Napi::Value face_motion_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    FaceMotionBackwardArgs a{};
    a.layout = face_layout_arg(info[1]);
    const FaceMotionLayout& L = a.layout;
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows(), segments = a.seg.count;
    a.h = tensor_on(info[3], "h", device, DType::F32, {rows, L.grid_dim}).ptr<float>();
    a.audio = tensor_on(info[4], "audio", device, DType::F32, {segments, L.code_dim}).ptr<float>();
    a.expression = tensor_on(info[5], "expression", device, DType::F32, {segments, L.expression_dim}).ptr<float>();
    a.audio_attention = mlp_weights_of(info[6], "audioAttention", a.seg, device, L.audio_attention);
    a.expression_attention = mlp_weights_of(info[6], "expressionAttention", a.seg, device, L.expression_attention);
    a.expression_encoder = mlp_weights_of(info[6], "expressionEncoder", a.seg, device, L.expression_encoder);
    a.decoder = mlp_weights_of(info[6], "decoder", a.seg, device, L.decoder);
    a.grad_out = tensor_on(info[7], "gradOut", device, DType::F32, {rows, L.decoder.output()}).ptr<float>();
    a.grad_audio_attention = grad_weights_of(info[8], "audioAttention", a.seg, device, L.audio_attention);
    a.grad_expression_attention =
        grad_weights_of(info[8], "expressionAttention", a.seg, device, L.expression_attention);
    a.grad_expression_encoder = grad_weights_of(info[8], "expressionEncoder", a.seg, device, L.expression_encoder);
    a.grad_decoder = grad_weights_of(info[8], "decoder", a.seg, device, L.decoder);
    a.grad_h = optional_f32(info[9], "gradH", device, {rows, L.grid_dim});
    a.grad_audio = optional_f32(info[10], "gradAudio", device, {segments, L.code_dim});
    a.grad_expression =
        tensor_on(info[11], "gradExpression", device, DType::F32, {segments, L.expression_dim}).ptr<float>();
    SC_DISPATCH(device, face_motion_backward, a);
    return info.Env().Undefined();
  });
}

Napi::Value mouth_motion_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    MouthMotionBackwardArgs a{};
    a.layout = mouth_layout_arg(info[1]);
    const MouthMotionLayout& L = a.layout;
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows(), segments = a.seg.count;
    a.h = tensor_on(info[3], "h", device, DType::F32, {rows, L.grid_dim}).ptr<float>();
    a.audio = tensor_on(info[4], "audio", device, DType::F32, {segments, L.code_dim}).ptr<float>();
    a.hook = tensor_on(info[5], "hook", device, DType::F32, {segments, kHookDim}).ptr<float>();
    a.audio_attention = mlp_weights_of(info[6], "audioAttention", a.seg, device, L.audio_attention);
    a.decoder = mlp_weights_of(info[6], "decoder", a.seg, device, L.decoder);
    a.hook_scaler = mlp_weights_of(info[6], "hookScaler", a.seg, device, L.hook_scaler);
    a.grad_out = tensor_on(info[7], "gradOut", device, DType::F32, {rows, kHookDim}).ptr<float>();
    a.grad_audio_attention = grad_weights_of(info[8], "audioAttention", a.seg, device, L.audio_attention);
    a.grad_decoder = grad_weights_of(info[8], "decoder", a.seg, device, L.decoder);
    a.grad_hook_scaler = grad_weights_of(info[8], "hookScaler", a.seg, device, L.hook_scaler);
    a.grad_h = optional_f32(info[9], "gradH", device, {rows, L.grid_dim});
    a.grad_audio = optional_f32(info[10], "gradAudio", device, {segments, L.code_dim});
    a.grad_hook = optional_f32(info[11], "gradHook", device, {segments, kHookDim});
    SC_DISPATCH(device, mouth_motion_backward, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
