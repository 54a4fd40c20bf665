// Backward pass of the 3DGS rasterizer (rasterizer.h), batched over segments like the forward.
//
// It needs the RasterContext of a training forward on the same workspace (rasterizer_forward_*(..., train = true))
// and the same input tensors, unchanged. It never sorts: it walks each pixel's blended Gaussians back to front from
// the last one the forward blended, rebuilding T by division (3DGS), and repeats the forward's skip decisions
// (sigma range, 1/255 cut) with the forward's Strict arithmetic, so both passes agree on what was blended.
//   blend:    dL/d(2D mean, conic, opacity, colour, depth) per Gaussian, summed over pixels; zero through the 0.99
//             alpha clamp.
//   gaussian: per Gaussian, through the conic inverse, the dilated EWA covariance J W R S S^T R^T W^T J^T, the
//             Jacobian's dependence on the camera-space mean (zero where x/z, y/z were clamped), the projection, the
//             quaternion normalisation, the sigmoid (zero past its +-80 clamp) and the SH colour (zero where the
//             colour was clamped at 0; the view direction's gradient reaches the mean, as in 3DGS).
// Gradients of the per-segment inputs (opacities, sh) are written per row: the caller maps rows back to identities.
// Every output is overwritten; culled Gaussians get zeros.
//
// CPU twin: deterministic for any thread count. Bins run in parallel, each writing the gradients of its own
// intersections; a second pass sums them per Gaussian in sorted-list order. CUDA: one block per (tile, segment),
// warp-reduced atomicAdd into per-Gaussian sums, so its summation order (and last bits) vary from run to run.
#pragma once
#include "rasterizer.h"

namespace splatcast {

struct RasterizerGrads {
  const float* rgb;    // [segments, H, W, 3] dL/d rgb
  const float* alpha;  // [segments, H, W] dL/d alpha
  const float* depth;  // [segments, H, W] dL/d depth, or null
  float* means;        // [rows, 3] dL/d world mean
  float* rotations;    // [rows, 4] dL/d input quaternion (before its normalisation)
  float* scales;       // [rows, 3] dL/d activated scale
  float* opacities;    // [rows] dL/d raw opacity (before the sigmoid)
  float* sh;           // [rows, sh_coeffs, 3] dL/d SH coefficients
  // [rows] or null: |dL/d 2D mean| in NDC units (pixel gradient times W/2, H/2), the view-space positional
  // gradient norm that 3DGS densification thresholds (0.0002); the trainer accumulates it over iterations.
  float* means2d_norm;
  float* radii;  // [rows] or null: the forward's screen radius in pixels, 0 where culled (3DGS's visibility)
};

// One Gaussian's gradient w.r.t. its projected splat (ProjectedSplat's fields).
struct SplatGrad {
  float u, v;
  float conic_a, conic_b, conic_c;
  float opacity;  // after the sigmoid
  float depth;
  float r, g, b;  // after the clamp
};

// `inputs` carries the forward's options, segments and input tensors (rgb, alpha, depth unused). Throws
// std::logic_error without a valid context.
void rasterizer_backward_cpu(const RasterizerArgs& inputs, const RasterizerGrads& grads, RasterWorkspace& workspace);
void rasterizer_backward_cuda(const RasterizerArgs& inputs, const RasterizerGrads& grads, RasterWorkspace& workspace);

}  // namespace splatcast
