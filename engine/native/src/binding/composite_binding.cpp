#include <string>

#include "../ops/composite.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

Napi::Value composite(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& face_rgb = tensor_on(info[1], "faceRgb", device, DType::F32, {-1, -1, -1, 3});
    CompositeArgs a{};
    a.images = static_cast<int32_t>(face_rgb.shape()[0]);
    if (a.images < 1 || a.images > kMaxSegments)
      fail("composite takes 1 to " + std::to_string(kMaxSegments) + " images, got " + face_rgb.describe());
    // Rows are a CUDA grid dimension.
    if (face_rgb.shape()[1] > 65535 || face_rgb.shape()[2] > 65535)
      fail("composite frames must be at most 65535 pixels per side, got " + face_rgb.describe());
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
    if (!info[6].IsNumber()) fail("dilateRadius must be a number");
    a.dilate_radius = info[6].As<Napi::Number>().Int32Value();
    if (a.dilate_radius < 0 || a.dilate_radius > kMaxDilateRadius)
      fail("dilateRadius must be 0.." + std::to_string(kMaxDilateRadius) + ", got " + std::to_string(a.dilate_radius));
    a.scratch = tensor_on(info[7], "scratch", device, DType::F32, {B, H, W}).ptr<float>();
    a.out = tensor_on(info[8], "out", device, DType::F32, {B, H, W, 3}).ptr<float>();
    SC_DISPATCH(device, composite, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
