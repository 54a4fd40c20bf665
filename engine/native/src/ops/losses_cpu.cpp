#include <cmath>
#include <vector>

#include "../core/parallel.h"
#include "losses_math.h"

namespace splatcast {

namespace {
constexpr int64_t kRowsPerChunk = 8;  // image rows per thread-pool chunk

// Runs pixel_op over every pixel, rows in parallel; returns each image's sum of what pixel_op returned, summed per
// row then over rows in order (deterministic for any thread count).
template <typename PixelOp>
void for_each_pixel(const PhotometricLossArgs& a, const PixelOp& pixel_op, float* sums) {
  const int64_t rows = static_cast<int64_t>(a.images) * a.height;
  std::vector<double> row_sums(sums ? rows : 0);
  parallel_for(rows, kRowsPerChunk, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      double sum = 0.0;
      for (int x = 0; x < a.width; ++x)
        sum += pixel_op(a, static_cast<int>(row / a.height), static_cast<int>(row % a.height), x);
      if (sums) row_sums[row] = sum;
    }
  });
  if (!sums) return;
  for (int b = 0; b < a.images; ++b) {
    double total = 0.0;
    for (int y = 0; y < a.height; ++y) total += row_sums[static_cast<size_t>(b) * a.height + y];
    sums[b] = static_cast<float>(total);
  }
}

// Adapts a pass that returns nothing.
template <void (*Pass)(const PhotometricLossArgs&, int, int, int)>
float pass(const PhotometricLossArgs& a, int image, int y, int x) {
  Pass(a, image, y, x);
  return 0.f;
}
}  // namespace

void ssim_window(float (&window)[kSsimWindow]) {
  double g[kSsimWindow], sum = 0.0;
  for (int i = 0; i < kSsimWindow; ++i) sum += g[i] = std::exp(-(i - kSsimRadius) * (i - kSsimRadius) / (2 * 1.5 * 1.5));
  for (int i = 0; i < kSsimWindow; ++i) window[i] = static_cast<float>(g[i] / sum);
}

void l1_loss_cpu(const PhotometricLossArgs& a) { for_each_pixel(a, l1_pixel, a.loss); }

void dssim_loss_cpu(const PhotometricLossArgs& a) {
  for_each_pixel(a, pass<ssim_rows>, nullptr);
  for_each_pixel(a, ssim_pixel, a.loss);
  if (!a.grad_image) return;
  for_each_pixel(a, pass<ssim_grad_rows>, nullptr);
  for_each_pixel(a, pass<ssim_grad_pixel>, nullptr);
}

}  // namespace splatcast
