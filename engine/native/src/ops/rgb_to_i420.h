// RGB frames to I420 (planar YUV 4:2:0) for video encoders. Per image: Y plane [H, W], then U [H/2, W/2], then V
// [H/2, W/2]; H and W must be even. Matrix BT.601 (Kr = 0.299, Kb = 0.114), on R, G, B clamped to [0, 1]:
//   Y' = 0.299 R + 0.587 G + 0.114 B
//   Cb = (B - Y') / 1.772 = -0.168736 R - 0.331264 G + 0.5 B
//   Cr = (R - Y') / 1.402 =  0.5 R - 0.418688 G - 0.081312 B
//   limited range (default; what WebRTC encoders and ffmpeg's yuv420p expect): Y = 16 + 219 Y', U = 128 + 224 Cb,
//     V = 128 + 224 Cr;  full range (JPEG): Y = 255 Y', U = 128 + 255 Cb, V = 128 + 255 Cr.
// Chroma is computed from the average RGB of each 2x2 block. Values are rounded to nearest and clamped to 0..255.
#pragma once
#include "../core/common.h"

namespace splatcast {

struct RgbToI420Args {
  int32_t images, height, width;
  bool full_range;
  const float* rgb;  // [images, H, W, 3]
  uint8_t* out;      // [images, H * W * 3 / 2]
};

void rgb_to_i420_cpu(const RgbToI420Args& args);
void rgb_to_i420_cuda(const RgbToI420Args& args);

}  // namespace splatcast
