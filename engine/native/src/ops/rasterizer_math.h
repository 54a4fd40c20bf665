// Per-Gaussian and per-pixel arithmetic of the rasterizer, shared verbatim by the CPU twin and the CUDA kernels.
//
// Why a Strict float: the CUDA build uses --use_fast_math (mul+add contracted into FMA, approximate division,
// sqrt and exp). The rasterizer's result hinges on discrete decisions (culling, tile rectangles, depth order,
// the 1/255 alpha cut, early termination); one ulp of difference flips a few of them per frame and changes
// pixels by ~1/255. Strict makes every operation correctly rounded on its own, in source order, on both sides,
// so the CPU twin and the GPU produce the same bits (host builds must not contract either: rasterizer_cpu.cpp
// turns contraction off for GCC). It costs the GPU little: the hot loop stays plain FMUL/FADD, and exp is a
// short polynomial evaluated only where the Gaussian can still pass the 1/255 cut.
#pragma once
#include <cmath>
#include <cstring>

#include "rasterizer.h"

namespace splatcast {

struct Strict {
  float v;
  SC_HD Strict(float x) : v(x) {}  // NOLINT: implicit, so literals mix in naturally
};

#if defined(__CUDA_ARCH__)
SC_HD inline Strict operator+(Strict a, Strict b) { return __fadd_rn(a.v, b.v); }
SC_HD inline Strict operator-(Strict a, Strict b) { return __fsub_rn(a.v, b.v); }
SC_HD inline Strict operator*(Strict a, Strict b) { return __fmul_rn(a.v, b.v); }
SC_HD inline Strict operator/(Strict a, Strict b) { return __fdiv_rn(a.v, b.v); }
SC_HD inline Strict strict_sqrt(Strict a) { return __fsqrt_rn(a.v); }
SC_HD inline float float_from_bits(uint32_t bits) { return __uint_as_float(bits); }
SC_HD inline uint32_t float_bits(float x) { return __float_as_uint(x); }
#else
SC_HD inline Strict operator+(Strict a, Strict b) { return a.v + b.v; }
SC_HD inline Strict operator-(Strict a, Strict b) { return a.v - b.v; }
SC_HD inline Strict operator*(Strict a, Strict b) { return a.v * b.v; }
SC_HD inline Strict operator/(Strict a, Strict b) { return a.v / b.v; }
SC_HD inline Strict strict_sqrt(Strict a) { return std::sqrt(a.v); }
SC_HD inline float float_from_bits(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}
SC_HD inline uint32_t float_bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}
#endif
SC_HD inline Strict operator-(Strict a) { return -a.v; }
SC_HD inline Strict strict_min(Strict a, Strict b) { return fminf(a.v, b.v); }
SC_HD inline Strict strict_max(Strict a, Strict b) { return fmaxf(a.v, b.v); }

// e^x for x in [-80, 80] (Cephes expf: Cody-Waite reduction by ln 2, degree-6 polynomial; about 1 ulp).
SC_HD inline Strict strict_exp(Strict x) {
  const Strict n = floorf((x * 1.44269504f + 0.5f).v);
  const Strict r = x - n * 0.693359375f + n * 2.12194440e-4f;  // 0.693359375 has few bits: n * it is exact
  Strict p = Strict(1.9875691500e-4f) * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.f;
  return p * float_from_bits(static_cast<uint32_t>(static_cast<int32_t>(n.v) + 127) << 23);
}

SC_HD inline Strict strict_sigmoid(float raw) {
  const Strict x = fminf(fmaxf(raw, -80.f), 80.f);
  return Strict(1.f) / (Strict(1.f) + strict_exp(-x));
}

// Real spherical harmonics up to degree 2 (3DGS constants and sign convention), one colour channel.
// sh points at coefficient 0 of the channel; coefficients are 3 floats apart ([K, 3] layout).
SC_HD inline Strict sh_channel(const float* sh, int degree, Strict x, Strict y, Strict z) {
  Strict c = Strict(0.28209479177387814f) * sh[0];
  if (degree >= 1)
    c = c - Strict(0.4886025119029199f) * y * sh[3] + Strict(0.4886025119029199f) * z * sh[6] -
        Strict(0.4886025119029199f) * x * sh[9];
  if (degree >= 2)
    c = c + Strict(1.0925484305920792f) * (x * y) * sh[12] + Strict(-1.0925484305920792f) * (y * z) * sh[15] +
        Strict(0.31539156525252005f) * (Strict(2.f) * (z * z) - x * x - y * y) * sh[18] +
        Strict(-1.0925484305920792f) * (x * z) * sh[21] + Strict(0.5462742152960396f) * (x * x - y * y) * sh[24];
  return c;
}

constexpr float kDilation = 0.3f;         // low-pass filter added to the 2D covariance (px^2)
constexpr float kMaxAlpha = 0.99f;
constexpr float kMinAlpha = 1.f / 255.f;
constexpr float kMinTransmittance = 1e-4f;
// Past this Mahalanobis half-distance, opacity * exp(-sigma) < 1/255 whatever the opacity (ln 255 = 5.5413):
// skipping exp there changes no result.
constexpr float kSigmaCut = 5.55f;

// Projects Gaussian `row` of segment `s`. Returns its number of overlapped tiles; 0 means culled, and then
// `out` and `rect` are left untouched.
SC_HD inline uint32_t project_splat(const RasterizerArgs& a, int s, int32_t row, ProjectedSplat& out, TileRect& rect) {
  const float* cam = a.cameras + static_cast<size_t>(s) * kCameraStride;
  const float* m = a.means + static_cast<size_t>(row) * 3;
  const Strict wx = m[0], wy = m[1], wz = m[2];
  const Strict z = cam[8] * wx + cam[9] * wy + cam[10] * wz + cam[11];
  if (!(z.v >= a.opt.near_plane && z.v <= a.opt.far_plane)) return 0;
  const Strict x = cam[0] * wx + cam[1] * wy + cam[2] * wz + cam[3];
  const Strict y = cam[4] * wx + cam[5] * wy + cam[6] * wz + cam[7];

  // Rotation of the normalised quaternion, scaled by column: M = R S, world covariance = M M^T.
  const float* q = a.rotations + static_cast<size_t>(row) * 4;
  const Strict qn = strict_sqrt(Strict(q[0]) * q[0] + Strict(q[1]) * q[1] + Strict(q[2]) * q[2] + Strict(q[3]) * q[3]);
  const Strict qw = q[0] / qn, qx = q[1] / qn, qy = q[2] / qn, qz = q[3] / qn;
  const float* sc = a.scales + static_cast<size_t>(row) * 3;
  const Strict R[3][3] = {
      {Strict(1.f) - Strict(2.f) * (qy * qy + qz * qz), Strict(2.f) * (qx * qy - qw * qz),
       Strict(2.f) * (qx * qz + qw * qy)},
      {Strict(2.f) * (qx * qy + qw * qz), Strict(1.f) - Strict(2.f) * (qx * qx + qz * qz),
       Strict(2.f) * (qy * qz - qw * qx)},
      {Strict(2.f) * (qx * qz - qw * qy), Strict(2.f) * (qy * qz + qw * qx),
       Strict(1.f) - Strict(2.f) * (qx * qx + qy * qy)},
  };
  // Camera-space factor A = W R S, so the camera covariance is A A^T.
  Strict A[3][3] = {{0.f, 0.f, 0.f}, {0.f, 0.f, 0.f}, {0.f, 0.f, 0.f}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      A[i][j] = (cam[4 * i] * R[0][j] + cam[4 * i + 1] * R[1][j] + cam[4 * i + 2] * R[2][j]) * sc[j];

  // EWA: the Jacobian of the perspective projection at the mean, with x/z and y/z clamped a little outside the
  // view frustum (gsplat's limits) so Gaussians beside the image do not smear across it.
  const Strict fx = cam[16], fy = cam[17], cx = cam[18], cy = cam[19];
  const Strict xz = x / z, yz = y / z;
  const Strict width = static_cast<float>(a.opt.width), height = static_cast<float>(a.opt.height);
  const Strict margin_x = Strict(0.3f) * (Strict(0.5f) * width / fx);
  const Strict margin_y = Strict(0.3f) * (Strict(0.5f) * height / fy);
  const Strict tx = strict_min(strict_max(xz, -(cx / fx + margin_x)), (width - cx) / fx + margin_x);
  const Strict ty = strict_min(strict_max(yz, -(cy / fy + margin_y)), (height - cy) / fy + margin_y);
  const Strict j00 = fx / z, j11 = fy / z;
  const Strict j02 = -(j00 * tx), j12 = -(j11 * ty);
  // B = J A (2 x 3); the 2D covariance is B B^T plus the dilation.
  Strict cov_a = kDilation, cov_b = 0.f, cov_c = kDilation;
  for (int k = 0; k < 3; ++k) {
    const Strict b0 = j00 * A[0][k] + j02 * A[2][k];
    const Strict b1 = j11 * A[1][k] + j12 * A[2][k];
    cov_a = cov_a + b0 * b0;
    cov_b = cov_b + b0 * b1;
    cov_c = cov_c + b1 * b1;
  }
  const Strict det = cov_a * cov_c - cov_b * cov_b;
  if (!(det.v > 0.f)) return 0;
  const Strict mid = Strict(0.5f) * (cov_a + cov_c);
  const Strict lambda = mid + strict_sqrt(strict_max(0.01f, mid * mid - det));
  const Strict radius = ceilf((Strict(3.f) * strict_sqrt(lambda)).v);
  const Strict u = fx * xz + cx, v = fy * yz + cy;

  const float inv_tile = 1.f / kTileSize;
  const float tiles_x = static_cast<float>(a.opt.tiles_x()), tiles_y = static_cast<float>(a.opt.tiles_y());
  const float x0 = fminf(fmaxf(floorf(((u - radius) * inv_tile).v), 0.f), tiles_x);
  const float x1 = fminf(fmaxf(ceilf(((u + radius) * inv_tile).v), 0.f), tiles_x);
  const float y0 = fminf(fmaxf(floorf(((v - radius) * inv_tile).v), 0.f), tiles_y);
  const float y1 = fminf(fmaxf(ceilf(((v + radius) * inv_tile).v), 0.f), tiles_y);
  if (!(x1 > x0 && y1 > y0)) return 0;
  rect = {static_cast<uint16_t>(x0), static_cast<uint16_t>(y0), static_cast<uint16_t>(x1), static_cast<uint16_t>(y1)};

  // View direction from the camera centre C = -W^T t.
  const Strict ccx = -(cam[0] * Strict(cam[3]) + cam[4] * Strict(cam[7]) + cam[8] * Strict(cam[11]));
  const Strict ccy = -(cam[1] * Strict(cam[3]) + cam[5] * Strict(cam[7]) + cam[9] * Strict(cam[11]));
  const Strict ccz = -(cam[2] * Strict(cam[3]) + cam[6] * Strict(cam[7]) + cam[10] * Strict(cam[11]));
  const Strict dx = wx - ccx, dy = wy - ccy, dz = wz - ccz;
  const Strict dn = strict_sqrt(dx * dx + dy * dy + dz * dz);
  const Strict nx = dx / dn, ny = dy / dn, nz = dz / dn;
  const int32_t local = row - a.seg.offset[s];
  const float* sh = a.sh.at[s] + static_cast<size_t>(local) * a.opt.sh_coeffs() * 3;
  const int degree = a.opt.sh_degree;

  out.u = u.v;
  out.v = v.v;
  out.conic_a = (cov_c / det).v;
  out.conic_b = (-cov_b / det).v;
  out.conic_c = (cov_a / det).v;
  out.opacity = strict_sigmoid(a.opacities.at[s][local]).v;
  out.depth = z.v;
  out.r = fmaxf((sh_channel(sh, degree, nx, ny, nz) + 0.5f).v, 0.f);
  out.g = fmaxf((sh_channel(sh + 1, degree, nx, ny, nz) + 0.5f).v, 0.f);
  out.b = fmaxf((sh_channel(sh + 2, degree, nx, ny, nz) + 0.5f).v, 0.f);
  out.radius = radius.v;
  out.unused = 0.f;
  return static_cast<uint32_t>(x1 - x0) * static_cast<uint32_t>(y1 - y0);
}

// Sort key of one (Gaussian, tile) pair: bin = segment * tiles + tile above, depth below. Depth is >= near > 0,
// so its float bits order like the value.
SC_HD inline uint64_t tile_key(int32_t bin, float depth) {
  return (static_cast<uint64_t>(bin) << 32) | float_bits(depth);
}

struct PixelState {
  float T = 1.f;
  float r = 0.f, g = 0.f, b = 0.f, depth = 0.f;
};

// Half the squared Mahalanobis distance of the pixel offset (dx, dy) = mean - pixel centre.
SC_HD inline Strict splat_sigma(const ProjectedSplat& g, Strict dx, Strict dy) {
  return Strict(0.5f) * (g.conic_a * dx * dx + g.conic_c * dy * dy) + g.conic_b * dx * dy;
}

// Composites Gaussian `g` behind what the pixel at (px, py) holds. Returns true when the pixel is done: `g` would
// bring T below kMinTransmittance, so neither it nor anything behind it is added.
SC_HD inline bool blend_splat(const ProjectedSplat& g, float px, float py, PixelState& p) {
  const Strict dx = Strict(g.u) - px, dy = Strict(g.v) - py;
  const Strict sigma = splat_sigma(g, dx, dy);
  if (sigma.v < 0.f || sigma.v > kSigmaCut) return false;
  const Strict alpha = fminf(kMaxAlpha, (g.opacity * strict_exp(-sigma)).v);
  if (alpha.v < kMinAlpha) return false;
  const Strict next_T = p.T * (Strict(1.f) - alpha);
  if (next_T.v < kMinTransmittance) return true;
  const Strict w = alpha * p.T;
  p.r = (p.r + g.r * w).v;
  p.g = (p.g + g.g * w).v;
  p.b = (p.b + g.b * w).v;
  p.depth = (p.depth + g.depth * w).v;
  p.T = next_T.v;
  return false;
}

}  // namespace splatcast
