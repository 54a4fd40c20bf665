// Per-pixel arithmetic of the composite, shared verbatim by the CPU twin and the CUDA kernels.
#pragma once
#include <cmath>

#include "composite.h"

namespace splatcast {

SC_HD inline int64_t composite_pixel_index(const CompositeArgs& a, int image, int y, int x) {
  return (static_cast<int64_t>(image) * a.height + y) * a.width + x;
}

// Row pass: maximum of mouth_alpha over [x - r, x + r] within the pixel's row.
SC_HD inline void dilate_row_pixel(const CompositeArgs& a, int image, int y, int x) {
  const int64_t row = composite_pixel_index(a, image, y, 0);
  const int lo = x - a.dilate_radius < 0 ? 0 : x - a.dilate_radius;
  const int hi = x + a.dilate_radius >= a.width ? a.width - 1 : x + a.dilate_radius;
  float m = a.mouth_alpha[row + lo];
  for (int i = lo + 1; i <= hi; ++i) m = fmaxf(m, a.mouth_alpha[row + i]);
  a.scratch[row + x] = m;
}

// Column pass over the row-pass maxima, then the blend.
SC_HD inline void composite_pixel(const CompositeArgs& a, int image, int y, int x) {
  const int lo = y - a.dilate_radius < 0 ? 0 : y - a.dilate_radius;
  const int hi = y + a.dilate_radius >= a.height ? a.height - 1 : y + a.dilate_radius;
  float dilated = a.scratch[composite_pixel_index(a, image, lo, x)];
  for (int i = lo + 1; i <= hi; ++i) dilated = fmaxf(dilated, a.scratch[composite_pixel_index(a, image, i, x)]);

  const int64_t pixel = composite_pixel_index(a, image, y, x);
  const float face_alpha = a.face_alpha[pixel];
  const uint8_t* bg = a.backgrounds.at[image] + (pixel - composite_pixel_index(a, image, 0, 0)) * 3;
  const float* face = a.face_rgb + pixel * 3;
  const float* mouth = a.mouth_rgb + pixel * 3;
  float* out = a.out + pixel * 3;
  for (int c = 0; c < 3; ++c) {
    float mouth_img = mouth[c] + bg[c] * (1.f / 255.f) * (1.f - dilated);
    out[c] = fminf(fmaxf(face[c] + mouth_img * (1.f - face_alpha), 0.f), 1.f);
  }
}

}  // namespace splatcast
