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

// --- Backward: four passes over every pixel, each reading only what the previous ones wrote. ---

SC_HD inline int64_t composite_pixel_index(const CompositeBackwardArgs& a, int image, int y, int x) {
  return (static_cast<int64_t>(image) * a.height + y) * a.width + x;
}

// 1. Row pass with its argmax: the first maximum of mouth_alpha over [x - r, x + r].
SC_HD inline void composite_backward_row_max(const CompositeBackwardArgs& a, int image, int y, int x) {
  const int64_t row = composite_pixel_index(a, image, y, 0);
  const int lo = x - a.dilate_radius < 0 ? 0 : x - a.dilate_radius;
  const int hi = x + a.dilate_radius >= a.width ? a.width - 1 : x + a.dilate_radius;
  float m = a.mouth_alpha[row + lo];
  int at = lo;
  for (int i = lo + 1; i <= hi; ++i)
    if (a.mouth_alpha[row + i] > m) m = a.mouth_alpha[row + i], at = i;
  a.scratch[row + x] = m;
  a.window_argmax[row + x] = at;
}

// 2. Column pass with its argmax, then the blend's gradients; d dilated is parked in grad_mouth_alpha.
SC_HD inline void composite_backward_blend(const CompositeBackwardArgs& a, int image, int y, int x) {
  const int lo = y - a.dilate_radius < 0 ? 0 : y - a.dilate_radius;
  const int hi = y + a.dilate_radius >= a.height ? a.height - 1 : y + a.dilate_radius;
  float dilated = a.scratch[composite_pixel_index(a, image, lo, x)];
  int at = lo;
  for (int i = lo + 1; i <= hi; ++i) {
    const float v = a.scratch[composite_pixel_index(a, image, i, x)];
    if (v > dilated) dilated = v, at = i;
  }
  const int64_t pixel = composite_pixel_index(a, image, y, x);
  const uint32_t packed = static_cast<uint32_t>(a.window_argmax[pixel]) | static_cast<uint32_t>(at) << 16;
  a.window_argmax[pixel] = static_cast<int32_t>(packed);
  const float face_alpha = a.face_alpha[pixel];
  const uint8_t* bg = a.backgrounds.at[image] + (pixel - composite_pixel_index(a, image, 0, 0)) * 3;
  float d_face_alpha = 0.f, d_dilated = 0.f;
  for (int c = 0; c < 3; ++c) {
    const float background = bg[c] * (1.f / 255.f);
    const float mouth_img = a.mouth_rgb[pixel * 3 + c] + background * (1.f - dilated);
    const float pre = a.face_rgb[pixel * 3 + c] + mouth_img * (1.f - face_alpha);
    const float g = pre >= 0.f && pre <= 1.f ? a.grad_out[pixel * 3 + c] : 0.f;
    a.grad_face_rgb[pixel * 3 + c] = g;
    a.grad_mouth_rgb[pixel * 3 + c] = g * (1.f - face_alpha);
    d_face_alpha -= g * mouth_img;
    d_dilated -= g * (1.f - face_alpha) * background;
  }
  a.grad_face_alpha[pixel] = d_face_alpha;
  a.grad_mouth_alpha[pixel] = d_dilated;
}

// 3. Column pass backward: row-pass value (y, x) collects d dilated of the pixels below and above whose column
// maximum it was. Written to scratch (the maxima are no longer needed).
SC_HD inline void composite_backward_columns(const CompositeBackwardArgs& a, int image, int y, int x) {
  const int lo = y - a.dilate_radius < 0 ? 0 : y - a.dilate_radius;
  const int hi = y + a.dilate_radius >= a.height ? a.height - 1 : y + a.dilate_radius;
  float sum = 0.f;
  for (int i = lo; i <= hi; ++i) {
    const int64_t p = composite_pixel_index(a, image, i, x);
    if (static_cast<int>(static_cast<uint32_t>(a.window_argmax[p]) >> 16) == y) sum += a.grad_mouth_alpha[p];
  }
  a.scratch[composite_pixel_index(a, image, y, x)] = sum;
}

// 4. Row pass backward: mouth_alpha (y, x) collects the row-pass gradients of the pixels left and right whose row
// maximum it was.
SC_HD inline void composite_backward_rows(const CompositeBackwardArgs& a, int image, int y, int x) {
  const int64_t row = composite_pixel_index(a, image, y, 0);
  const int lo = x - a.dilate_radius < 0 ? 0 : x - a.dilate_radius;
  const int hi = x + a.dilate_radius >= a.width ? a.width - 1 : x + a.dilate_radius;
  float sum = 0.f;
  for (int i = lo; i <= hi; ++i)
    if ((a.window_argmax[row + i] & 0xffff) == x) sum += a.scratch[row + i];
  a.grad_mouth_alpha[row + x] = sum;
}

}  // namespace splatcast
