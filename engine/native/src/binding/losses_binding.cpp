#include <cmath>
#include <string>

#include "../ops/losses.h"
#include "args.h"
#include "grad_args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {
// image, target, mask|null, weight, loss, gradImage|null at info[1 .. 6].
PhotometricLossArgs loss_args(const Napi::CallbackInfo& info, Device device) {
  Tensor& image = tensor_on(info[1], "image", device, DType::F32, {-1, -1, -1, 3});
  PhotometricLossArgs a{};
  if (image.shape()[0] < 1 || image.shape()[0] > kMaxSegments)
    fail("a loss takes 1 to " + std::to_string(kMaxSegments) + " images, got " + image.describe());
  if (image.shape()[1] > 65535 || image.shape()[2] > 65535)  // rows are a CUDA grid dimension
    fail("loss images must be at most 65535 pixels per side, got " + image.describe());
  a.images = static_cast<int32_t>(image.shape()[0]);
  a.height = static_cast<int32_t>(image.shape()[1]);
  a.width = static_cast<int32_t>(image.shape()[2]);
  const int64_t B = a.images, H = a.height, W = a.width;
  a.image = image.ptr<float>();
  a.target = tensor_on(info[2], "target", device, DType::F32, {B, H, W, 3}).ptr<float>();
  a.mask = optional_f32(info[3], "mask", device, {B, H, W});
  if (!info[4].IsNumber() || !std::isfinite(info[4].As<Napi::Number>().DoubleValue()))
    fail("weight must be a finite number");
  a.weight = info[4].As<Napi::Number>().FloatValue();
  a.loss = tensor_on(info[5], "loss", device, DType::F32, {B}).ptr<float>();
  a.grad_image = optional_f32(info[6], "gradImage", device, {B, H, W, 3});
  return a;
}
}  // namespace

Napi::Value l1_loss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    const PhotometricLossArgs a = loss_args(info, device);
    SC_DISPATCH(device, l1_loss, a);
    return info.Env().Undefined();
  });
}

Napi::Value dssim_loss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    PhotometricLossArgs a = loss_args(info, device);
    a.workspace =
        tensor_on(info[7], "workspace", device, DType::F32, {kSsimWorkspaceMaps, a.images, a.height, a.width, 3})
            .ptr<float>();
    ssim_window(a.window);
    SC_DISPATCH(device, dssim_loss, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
