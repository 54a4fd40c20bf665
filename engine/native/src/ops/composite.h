// Final frame compositing (official InsTaG), per image of the batch. Renders are premultiplied over black:
//   dilated   = max of mouth_alpha over a (2r+1) x (2r+1) window (clipped at the borders, like max_pool2d padding)
//   mouth_img = mouth_rgb + background * (1 - dilated)
//   image     = clamp(face_rgb + mouth_img * (1 - face_alpha), 0, 1)
// The max filter is separable: a row pass into `scratch`, then a column pass fused with the blend.
#pragma once
#include "../core/segments.h"

namespace splatcast {

// Official radius: 6 (a 13x13 pool); the ceiling keeps per-pixel window loops short.
constexpr int kMaxDilateRadius = 32;

struct CompositeArgs {
  int32_t images, height, width;
  int32_t dilate_radius;                   // 0..kMaxDilateRadius
  const float* face_rgb;                   // [images, H, W, 3]
  const float* face_alpha;                 // [images, H, W]
  const float* mouth_rgb;                  // [images, H, W, 3]
  const float* mouth_alpha;                // [images, H, W]
  PerSegment<const uint8_t*> backgrounds;  // per image: [H, W, 3] u8 RGB (torso over the background plate)
  float* scratch;                          // [images, H, W] row-pass maximum
  float* out;                              // [images, H, W, 3]
};

void composite_cpu(const CompositeArgs& args);
void composite_cuda(const CompositeArgs& args);

// Backward (all gradients OVERWRITTEN; the background plate gets none). With pre = face_rgb + mouth_img * (1 -
// face_alpha), the clamp passes the gradient where 0 <= pre <= 1 (torch.clamp), then
//   d face_rgb = g, d face_alpha = -sum_c g mouth_img, d mouth_rgb = g (1 - face_alpha),
//   d dilated = -sum_c g (1 - face_alpha) background,
// and d dilated goes to the pixel the window's maximum came from, the forward's: its column pass takes the first
// (topmost) maximal row-pass value, whose row pass took the first (leftmost) maximal pixel, i.e. the window's first
// maximum in raster order (as max_pool2d's backward). Every pass gathers (a pixel sums what its window sends it),
// so both backends are deterministic.
struct CompositeBackwardArgs {
  int32_t images, height, width;
  int32_t dilate_radius;
  const float* face_rgb;                   // [images, H, W, 3]
  const float* face_alpha;                 // [images, H, W]
  const float* mouth_rgb;                  // [images, H, W, 3]
  const float* mouth_alpha;                // [images, H, W]
  PerSegment<const uint8_t*> backgrounds;  // per image: [H, W, 3] u8
  const float* grad_out;                   // [images, H, W, 3]: dL/d out
  float* scratch;                          // [images, H, W]: row-pass maxima, then their gradient
  int32_t* window_argmax;                  // [images, H, W]: row-pass argmax x (low 16 bits), column-pass y (high)
  float* grad_face_rgb;                    // [images, H, W, 3]
  float* grad_face_alpha;                  // [images, H, W]
  float* grad_mouth_rgb;                   // [images, H, W, 3]
  float* grad_mouth_alpha;                 // [images, H, W]; holds d dilated between passes
};

void composite_backward_cpu(const CompositeBackwardArgs& args);
void composite_backward_cuda(const CompositeBackwardArgs& args);

}  // namespace splatcast
