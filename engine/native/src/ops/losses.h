// Photometric losses of the trainer (3DGS: (1 - lambda) L1 + lambda D-SSIM) on images [B, H, W, 3], one loss per
// image, with an optional per-pixel weight mask [B, H, W] (face or mouth regions; 1 everywhere when absent):
//   L1_b    = 1 / (3 H W) sum_p m_p sum_c |image - target|
//   DSSIM_b = 1 / (3 H W) sum_p m_p sum_c (1 - SSIM_pc)
// SSIM as 3DGS computes it: per channel, local statistics under an 11 x 11 Gaussian window (sigma 1.5, normalised,
// zero padding at the borders), C1 = 0.01^2, C2 = 0.03^2; without a mask DSSIM is 1 - mean(SSIM).
//
// Each op WRITES loss [B] (unweighted) and, when grad_image is set, ADDS weight * dL/d image into it, so the
// photometric terms sum into one image gradient (zeroed by the trainer once per step). The L1 gradient at
// image == target is 0 (as torch's abs). D-SSIM's gradient goes back through the window: with M1, M2, M3 the
// per-pixel derivatives of the loss by mean(x), mean(x^2) and mean(x y), dL/dx = G*M1 + 2 x (G*M2) + y (G*M3).
#pragma once
#include "../core/segments.h"

namespace splatcast {

constexpr int kSsimRadius = 5;
constexpr int kSsimWindow = 2 * kSsimRadius + 1;
// D-SSIM workspace: 8 maps of [B, H, W, 3] (the five blurred statistics' row pass, then three gradient maps).
constexpr int kSsimWorkspaceMaps = 8;

struct PhotometricLossArgs {
  int32_t images, height, width;
  const float* image;         // [B, H, W, 3]
  const float* target;        // [B, H, W, 3]
  const float* mask;          // [B, H, W], or null
  float weight;               // scales the gradient
  float* loss;                // [B], written
  float* grad_image;          // [B, H, W, 3], added to; or null
  float* workspace;           // D-SSIM: [kSsimWorkspaceMaps, B, H, W, 3]; unused by L1
  float window[kSsimWindow];  // D-SSIM: the normalised 1-D Gaussian (ssim_window)
};

// The 1-D Gaussian of the SSIM window, normalised to sum 1 (3DGS's create_window).
void ssim_window(float (&window)[kSsimWindow]);

void l1_loss_cpu(const PhotometricLossArgs& args);
void l1_loss_cuda(const PhotometricLossArgs& args);
void dssim_loss_cpu(const PhotometricLossArgs& args);
void dssim_loss_cuda(const PhotometricLossArgs& args);

}  // namespace splatcast
