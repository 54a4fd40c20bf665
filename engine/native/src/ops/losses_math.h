// Per-pixel arithmetic of the photometric losses, shared verbatim by the CPU twin and the CUDA kernels. Each
// function handles pixel (y, x) of one image; D-SSIM runs four passes, each reading what the previous wrote.
#pragma once
#include <cmath>

#include "losses.h"

namespace splatcast {

constexpr float kSsimC1 = 0.01f * 0.01f;
constexpr float kSsimC2 = 0.03f * 0.03f;

SC_HD inline int64_t loss_pixel(const PhotometricLossArgs& a, int image, int y, int x) {
  return (static_cast<int64_t>(image) * a.height + y) * a.width + x;
}

// dL/dS per pixel: the mask over the 3 H W values averaged.
SC_HD inline float loss_scale(const PhotometricLossArgs& a, int64_t pixel) {
  const float m = a.mask ? a.mask[pixel] : 1.f;
  return m / (3.f * static_cast<float>(a.height) * static_cast<float>(a.width));
}

// Returns the pixel's share of L1 and adds its gradient.
SC_HD inline float l1_pixel(const PhotometricLossArgs& a, int image, int y, int x) {
  const int64_t pixel = loss_pixel(a, image, y, x);
  const float scale = loss_scale(a, pixel);
  float sum = 0.f;
  for (int c = 0; c < 3; ++c) {
    const float d = a.image[pixel * 3 + c] - a.target[pixel * 3 + c];
    sum += fabsf(d);
    if (a.grad_image) a.grad_image[pixel * 3 + c] += a.weight * scale * (d > 0.f ? 1.f : d < 0.f ? -1.f : 0.f);
  }
  return sum * scale;
}

// Workspace map k, element (pixel, channel).
SC_HD inline float* ssim_map(const PhotometricLossArgs& a, int k) {
  return a.workspace + static_cast<int64_t>(k) * a.images * a.height * a.width * 3;
}

// 1. Row pass of the five statistics x, y, x^2, y^2, x y into maps 0..4.
SC_HD inline void ssim_rows(const PhotometricLossArgs& a, int image, int y, int x) {
  const int64_t pixel = loss_pixel(a, image, y, x);
  for (int c = 0; c < 3; ++c) {
    float s[5] = {0.f, 0.f, 0.f, 0.f, 0.f};
    for (int d = -kSsimRadius; d <= kSsimRadius; ++d) {
      if (x + d < 0 || x + d >= a.width) continue;
      const float w = a.window[d + kSsimRadius];
      const float u = a.image[(pixel + d) * 3 + c], v = a.target[(pixel + d) * 3 + c];
      s[0] += w * u, s[1] += w * v, s[2] += w * u * u, s[3] += w * v * v, s[4] += w * u * v;
    }
    for (int k = 0; k < 5; ++k) ssim_map(a, k)[pixel * 3 + c] = s[k];
  }
}

// 2. Column pass, SSIM and its derivatives by mean(x), mean(x^2), mean(x y) times dL/dS into maps 5..7. Returns
// the pixel's share of D-SSIM.
SC_HD inline float ssim_pixel(const PhotometricLossArgs& a, int image, int y, int x) {
  const int64_t pixel = loss_pixel(a, image, y, x);
  const float scale = loss_scale(a, pixel);
  float loss = 0.f;
  for (int c = 0; c < 3; ++c) {
    float s[5] = {0.f, 0.f, 0.f, 0.f, 0.f};
    for (int d = -kSsimRadius; d <= kSsimRadius; ++d) {
      if (y + d < 0 || y + d >= a.height) continue;
      const float w = a.window[d + kSsimRadius];
      const int64_t e = (pixel + static_cast<int64_t>(d) * a.width) * 3 + c;
      for (int k = 0; k < 5; ++k) s[k] += w * ssim_map(a, k)[e];
    }
    const float mx = s[0], my = s[1];
    const float a1 = 2.f * mx * my + kSsimC1, a2 = 2.f * (s[4] - mx * my) + kSsimC2;
    const float b1 = mx * mx + my * my + kSsimC1, b2 = (s[2] - mx * mx) + (s[3] - my * my) + kSsimC2;
    const float inv_d = 1.f / (b1 * b2);
    const float ssim = a1 * a2 * inv_d;
    loss += scale * (1.f - ssim);
    // dL/dS = -scale; S = a1 a2 / (b1 b2).
    const float d_mx = (2.f * my * (a2 - a1) - ssim * 2.f * mx * (b2 - b1)) * inv_d;
    const float d_xx = -ssim / b2, d_xy = 2.f * a1 * inv_d;
    ssim_map(a, 5)[pixel * 3 + c] = -scale * d_mx;
    ssim_map(a, 6)[pixel * 3 + c] = -scale * d_xx;
    ssim_map(a, 7)[pixel * 3 + c] = -scale * d_xy;
  }
  return loss;
}

// 3. Row pass of the three derivative maps 5..7 into maps 0..2 (the window is symmetric: its adjoint is itself).
SC_HD inline void ssim_grad_rows(const PhotometricLossArgs& a, int image, int y, int x) {
  const int64_t pixel = loss_pixel(a, image, y, x);
  for (int c = 0; c < 3; ++c) {
    float s[3] = {0.f, 0.f, 0.f};
    for (int d = -kSsimRadius; d <= kSsimRadius; ++d) {
      if (x + d < 0 || x + d >= a.width) continue;
      const float w = a.window[d + kSsimRadius];
      for (int k = 0; k < 3; ++k) s[k] += w * ssim_map(a, 5 + k)[(pixel + d) * 3 + c];
    }
    for (int k = 0; k < 3; ++k) ssim_map(a, k)[pixel * 3 + c] = s[k];
  }
}

// 4. Column pass, then dL/dx = G*M1 + 2 x (G*M2) + y (G*M3), added to the image gradient.
SC_HD inline void ssim_grad_pixel(const PhotometricLossArgs& a, int image, int y, int x) {
  const int64_t pixel = loss_pixel(a, image, y, x);
  for (int c = 0; c < 3; ++c) {
    float s[3] = {0.f, 0.f, 0.f};
    for (int d = -kSsimRadius; d <= kSsimRadius; ++d) {
      if (y + d < 0 || y + d >= a.height) continue;
      const float w = a.window[d + kSsimRadius];
      const int64_t e = (pixel + static_cast<int64_t>(d) * a.width) * 3 + c;
      for (int k = 0; k < 3; ++k) s[k] += w * ssim_map(a, k)[e];
    }
    const int64_t e = pixel * 3 + c;
    a.grad_image[e] += a.weight * (s[0] + 2.f * a.image[e] * s[1] + a.target[e] * s[2]);
  }
}

}  // namespace splatcast
