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

}  // namespace splatcast
