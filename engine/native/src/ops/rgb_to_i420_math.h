// Per-2x2-block conversion of rgb_to_i420, shared verbatim by the CPU twin and the CUDA kernel.
#pragma once
#include <cmath>

#include "rgb_to_i420.h"

namespace splatcast {

SC_HD inline uint8_t i420_round(float v) { return static_cast<uint8_t>(fminf(fmaxf(floorf(v + 0.5f), 0.f), 255.f)); }

// Block (bx, by) covers pixels x in {2bx, 2bx + 1}, y in {2by, 2by + 1}: four Y samples, one U and one V.
SC_HD inline void i420_block(const RgbToI420Args& a, int image, int by, int bx) {
  const float y_scale = a.full_range ? 255.f : 219.f, y_offset = a.full_range ? 0.f : 16.f;
  const float c_scale = a.full_range ? 255.f : 224.f;
  const int64_t plane = static_cast<int64_t>(a.height) * a.width;
  uint8_t* luma = a.out + image * (plane * 3 / 2);
  float sum[3] = {0.f, 0.f, 0.f};
  for (int dy = 0; dy < 2; ++dy) {
    const int64_t row = static_cast<int64_t>(2 * by + dy) * a.width;
    for (int dx = 0; dx < 2; ++dx) {
      const float* p = a.rgb + (image * plane + row + 2 * bx + dx) * 3;
      float r = fminf(fmaxf(p[0], 0.f), 1.f), g = fminf(fmaxf(p[1], 0.f), 1.f), b = fminf(fmaxf(p[2], 0.f), 1.f);
      sum[0] += r;
      sum[1] += g;
      sum[2] += b;
      luma[row + 2 * bx + dx] = i420_round(y_offset + y_scale * (0.299f * r + 0.587f * g + 0.114f * b));
    }
  }
  const float r = sum[0] * 0.25f, g = sum[1] * 0.25f, b = sum[2] * 0.25f;
  const int64_t chroma = static_cast<int64_t>(by) * (a.width / 2) + bx;
  uint8_t* u = luma + plane;
  uint8_t* v = u + plane / 4;
  u[chroma] = i420_round(128.f + c_scale * (-0.168736f * r - 0.331264f * g + 0.5f * b));
  v[chroma] = i420_round(128.f + c_scale * (0.5f * r - 0.418688f * g - 0.081312f * b));
}

}  // namespace splatcast
