#include <string>

#include "../ops/composite.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {
int32_t dilate_radius_arg(const Napi::Value& value) {
  if (!value.IsNumber()) fail("dilateRadius must be a number");
  const int32_t r = value.As<Napi::Number>().Int32Value();
  if (r < 0 || r > kMaxDilateRadius)
    fail("dilateRadius must be 0.." + std::to_string(kMaxDilateRadius) + ", got " + std::to_string(r));
  return r;
}

// The batch shape from faceRgb [B, H, W, 3].
Tensor& face_rgb_arg(const Napi::Value& value, Device device) {
  Tensor& face_rgb = tensor_on(value, "faceRgb", device, DType::F32, {-1, -1, -1, 3});
  if (face_rgb.shape()[0] < 1 || face_rgb.shape()[0] > kMaxSegments)
    fail("composite takes 1 to " + std::to_string(kMaxSegments) + " images, got " + face_rgb.describe());
  // Rows are a CUDA grid dimension (and the backward packs coordinates into 16 bits).
  if (face_rgb.shape()[1] > 65535 || face_rgb.shape()[2] > 65535)
    fail("composite frames must be at most 65535 pixels per side, got " + face_rgb.describe());
  return face_rgb;
}
}  // namespace

Napi::Value composite(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& face_rgb = face_rgb_arg(info[1], device);
    CompositeArgs a{};
    a.images = static_cast<int32_t>(face_rgb.shape()[0]);
    a.height = static_cast<int32_t>(face_rgb.shape()[1]);
    a.width = static_cast<int32_t>(face_rgb.shape()[2]);
    const int64_t B = a.images, H = a.height, W = a.width;
    a.face_rgb = face_rgb.ptr<float>();
    a.face_alpha = tensor_on(info[2], "faceAlpha", device, DType::F32, {B, H, W}).ptr<float>();
    a.mouth_rgb = tensor_on(info[3], "mouthRgb", device, DType::F32, {B, H, W, 3}).ptr<float>();
    a.mouth_alpha = tensor_on(info[4], "mouthAlpha", device, DType::F32, {B, H, W}).ptr<float>();
    Segments images;
    images.count = a.images;
    a.backgrounds = per_segment_u8(info[5], "backgrounds", images, device, {H, W, 3});
    a.dilate_radius = dilate_radius_arg(info[6]);
    a.scratch = tensor_on(info[7], "scratch", device, DType::F32, {B, H, W}).ptr<float>();
    a.out = tensor_on(info[8], "out", device, DType::F32, {B, H, W, 3}).ptr<float>();
    SC_DISPATCH(device, composite, a);
    return info.Env().Undefined();
  });
}

Napi::Value composite_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& face_rgb = face_rgb_arg(info[1], device);
    CompositeBackwardArgs a{};
    a.images = static_cast<int32_t>(face_rgb.shape()[0]);
    a.height = static_cast<int32_t>(face_rgb.shape()[1]);
    a.width = static_cast<int32_t>(face_rgb.shape()[2]);
    const int64_t B = a.images, H = a.height, W = a.width;
    a.face_rgb = face_rgb.ptr<float>();
    a.face_alpha = tensor_on(info[2], "faceAlpha", device, DType::F32, {B, H, W}).ptr<float>();
    a.mouth_rgb = tensor_on(info[3], "mouthRgb", device, DType::F32, {B, H, W, 3}).ptr<float>();
    a.mouth_alpha = tensor_on(info[4], "mouthAlpha", device, DType::F32, {B, H, W}).ptr<float>();
    Segments images;
    images.count = a.images;
    a.backgrounds = per_segment_u8(info[5], "backgrounds", images, device, {H, W, 3});
    a.dilate_radius = dilate_radius_arg(info[6]);
    a.grad_out = tensor_on(info[7], "gradOut", device, DType::F32, {B, H, W, 3}).ptr<float>();
    a.scratch = tensor_on(info[8], "scratch", device, DType::F32, {B, H, W}).ptr<float>();
    a.window_argmax = tensor_on(info[9], "argScratch", device, DType::I32, {B, H, W}).ptr<int32_t>();
    a.grad_face_rgb = tensor_on(info[10], "gradFaceRgb", device, DType::F32, {B, H, W, 3}).ptr<float>();
    a.grad_face_alpha = tensor_on(info[11], "gradFaceAlpha", device, DType::F32, {B, H, W}).ptr<float>();
    a.grad_mouth_rgb = tensor_on(info[12], "gradMouthRgb", device, DType::F32, {B, H, W, 3}).ptr<float>();
    a.grad_mouth_alpha = tensor_on(info[13], "gradMouthAlpha", device, DType::F32, {B, H, W}).ptr<float>();
    SC_DISPATCH(device, composite_backward, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
