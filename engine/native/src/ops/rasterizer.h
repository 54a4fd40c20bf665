// 3D Gaussian Splatting rasterizer (3DGS / gsplat pipeline), batched over segments: segment s is one image of one
// identity's Gaussians seen by its own camera. The backward pass is declared in rasterizer_backward.h.
//   1. project: EWA splatting of each Gaussian (covariance R S S^T R^T, perspective Jacobian, 0.3 px low-pass
//      dilation), radius ceil(3 sigma_max), culled behind `near_plane`, beyond `far_plane`, off-screen or degenerate;
//      colour = SH in the view direction + 0.5 clamped at 0; opacity = sigmoid(raw).
//   2. bin: one key per overlapped 16x16 tile, (segment * tiles + tile) << 32 | depth bits, sorted; ties keep the
//      Gaussian's row order, so the CPU twin and CUDA see the same front-to-back order.
//   3. blend per pixel front to back: alpha = min(0.99, opacity * exp(-0.5 d^T conic d)), skip alpha < 1/255, stop
//      before the Gaussian that would bring transmittance T below 1e-4.
// Pixel (i, j) has its centre at (i + 0.5, j + 0.5) in the intrinsics' pixel units (OpenCV convention).
// Outputs: rgb = sum c alpha T (premultiplied over black), alpha = 1 - T_final, depth = sum z alpha T (camera z,
// not divided by alpha).
#pragma once
#include <cstddef>

#include "../core/segments.h"

namespace splatcast {

constexpr int kTileSize = 16;
constexpr int kMaxImageSide = 8192;
constexpr int kMaxShDegree = 2;
// Per camera: world-to-camera 4x4 row-major (camera looks down +z, y down), then fx, fy, cx, cy in pixels.
constexpr int kCameraStride = 20;

struct RasterizerOptions {
  int32_t width;
  int32_t height;
  int32_t sh_degree;  // 0..kMaxShDegree
  float near_plane;
  float far_plane;
  SC_HD int32_t tiles_x() const { return (width + kTileSize - 1) / kTileSize; }
  SC_HD int32_t tiles_y() const { return (height + kTileSize - 1) / kTileSize; }
  SC_HD int32_t tiles() const { return tiles_x() * tiles_y(); }
  SC_HD int32_t sh_coeffs() const { return (sh_degree + 1) * (sh_degree + 1); }
};

struct RasterizerArgs {
  Segments seg;
  RasterizerOptions opt;
  const float* means;                 // [rows, 3] world space
  const float* rotations;             // [rows, 4] quaternion (w, x, y, z), normalised here
  const float* scales;                // [rows, 3] activated
  PerSegment<const float*> opacities; // per segment: [rows_of(s)] raw (before sigmoid), read at local rows
  PerSegment<const float*> sh;        // per segment: [rows_of(s), sh_coeffs, 3], read at local rows
  const float* cameras;               // [segments, kCameraStride]
  float* rgb;                         // [segments, H, W, 3]
  float* alpha;                       // [segments, H, W]
  float* depth;                       // [segments, H, W], or null
};

// One projected Gaussian, as the blend stage reads it (48 bytes: three 16-byte loads into shared memory).
struct alignas(16) ProjectedSplat {
  float u, v;                       // pixel-space mean
  float conic_a, conic_b, conic_c;  // inverse 2D covariance [[a, b], [b, c]]
  float opacity;
  float depth;                      // camera z
  float r, g, b;                    // clamped at 0
  float radius;                     // pixels, ceil(3 sigma_max)
  float unused;
};

// Tiles [x0, x1) x [y0, y1) overlapped by a Gaussian's radius.
struct TileRect {
  uint16_t x0, y0, x1, y1;
};

struct TileRange {
  int32_t begin, end;  // sorted intersections of one (segment, tile)
};

// Scratch memory on one device that grows geometrically and never shrinks, so steady-state frames allocate
// nothing. Contents are not kept across growth.
class RasterBuffer {
 public:
  explicit RasterBuffer(Device device) : device_(device) {}
  ~RasterBuffer() { release(); }
  RasterBuffer(const RasterBuffer&) = delete;
  RasterBuffer& operator=(const RasterBuffer&) = delete;

  void* reserve(size_t bytes);
  template <typename T>
  T* reserve(int64_t count) {
    return static_cast<T*>(reserve(static_cast<size_t>(count) * sizeof(T)));
  }
  size_t capacity() const { return capacity_; }
  // The contents as left by the last user (the backward reads what the training forward wrote).
  template <typename T>
  T* data() const {
    return static_cast<T*>(data_);
  }

 private:
  void release();
  Device device_;
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

// What a training forward leaves in its workspace for the backward pass (gsplat style: the backward reuses the
// forward's sort and per-pixel state, it never sorts again). Valid from the end of a training forward until the
// next forward on the same workspace, which clears it first. Held in the workspace's buffers:
//   splats [rows]      2D mean, conic, depth, colour (clamped), opacity (after the sigmoid), radius
//   counts [rows]      tiles overlapped; 0 = culled (its gradients are zero)
//   ranges [B * tiles] each (segment, tile) bin's span of the sorted intersection list
//   the sorted list    CPU: keys[0], entries (depth bits << 32 | row) sorted within each bin;
//                      CUDA: `sorted_rows`, the rows in sorted order (one of rows[0], rows[1])
//   pixel_T [B, H, W]  float: final transmittance of each pixel
//   pixel_end [B,H,W]  int32: one past the sorted-list index of the pixel's last blended Gaussian (its bin's
//                      begin when it blended none); the backward walks [bin begin, end) back to front
// The input pointers are kept only to check that the backward is handed the same tensors; their contents must not
// change in between (the backward recomputes the 3D chain from them).
struct RasterContext {
  bool valid = false;
  Segments seg;
  RasterizerOptions opt{};
  int32_t intersections = 0;
  const uint32_t* sorted_rows = nullptr;  // CUDA only
  const float* means = nullptr;
  const float* rotations = nullptr;
  const float* scales = nullptr;
  const float* cameras = nullptr;
  PerSegment<const float*> opacities, sh;
};

// Fills `context` for the frame a training forward just rendered from `args` (its buffers already in place).
void record_context(const RasterizerArgs& args, int32_t intersections, const uint32_t* sorted_rows,
                    RasterContext& context);

// Everything a frame needs besides its inputs and outputs. Buffers sized by Gaussians (splats, rects, counts,
// offsets) or by (segment, tile) bins (ranges) and by tile intersections (keys, rows, sort scratch). Training adds
// the per-pixel state (pixel_T, pixel_end) and the backward's accumulators (splat_grads); inference never touches
// them.
struct RasterWorkspace {
  explicit RasterWorkspace(Device d)
      : device(d), splats(d), rects(d), counts(d), offsets(d), ranges(d), keys{RasterBuffer(d), RasterBuffer(d)},
        rows{RasterBuffer(d), RasterBuffer(d)}, scratch(d), pixel_T(d), pixel_end(d), splat_grads(d) {}
  size_t reserved_bytes() const;

  Device device;
  RasterBuffer splats, rects, counts, offsets, ranges;
  RasterBuffer keys[2], rows[2];  // sort double buffers (the CPU twin uses keys[0] only)
  RasterBuffer scratch;           // CUB temporary storage
  RasterBuffer pixel_T, pixel_end, splat_grads;
  RasterContext context;
};

// Both return the number of (Gaussian, tile) intersections. Throws std::length_error past 2^31 intersections.
// The CUDA path reads that count back once per call (one 8-byte device-to-host copy, which waits for the
// projection) to size the key buffers; every other step is queued on the default stream without waiting.
// `train` also records the RasterContext (the images are the same bits either way); otherwise the context is
// cleared.
int64_t rasterizer_forward_cpu(const RasterizerArgs& args, RasterWorkspace& workspace, bool train);
int64_t rasterizer_forward_cuda(const RasterizerArgs& args, RasterWorkspace& workspace, bool train);

}  // namespace splatcast
