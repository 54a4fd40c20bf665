#include <string>

#include "../ops/rgb_to_i420.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

Napi::Value rgb_to_i420(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    Tensor& rgb = tensor_on(info[1], "rgb", device, DType::F32, {-1, -1, -1, 3});
    const int64_t B = rgb.shape()[0], H = rgb.shape()[1], W = rgb.shape()[2];
    if (H % 2 != 0 || W % 2 != 0)
      fail("rgbToI420 needs an even width and height (chroma covers 2x2 blocks), got " + std::to_string(W) + "x" +
           std::to_string(H));
    // Images and block rows are CUDA grid dimensions.
    if (B > 65535 || H / 2 > 65535 || W > INT32_MAX)
      fail("rgbToI420 takes at most 65535 images of at most 131070 rows, got " + rgb.describe());
    if (!info[2].IsBoolean()) fail("fullRange must be a boolean");
    RgbToI420Args a{};
    a.images = static_cast<int32_t>(B);
    a.height = static_cast<int32_t>(H);
    a.width = static_cast<int32_t>(W);
    a.full_range = info[2].As<Napi::Boolean>().Value();
    a.rgb = rgb.ptr<float>();
    a.out = tensor_on(info[3], "out", device, DType::U8, {B, H * W * 3 / 2}).ptr<uint8_t>();
    SC_DISPATCH(device, rgb_to_i420, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
