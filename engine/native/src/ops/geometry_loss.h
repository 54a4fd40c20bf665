// Geometry regulariser of motion-aligned adaptation (InsTaG eq. 12) on one rendered image: the face branch's depth
// and the normals of its depth surface against a geometry prior, where both exist.
//
// Inputs: the rasterizer's depth sum D (sum of camera z * alpha * T) and alpha A, [H, W]; the prior [H, W, 4]
// (normal x, y, z, then depth; depth 0 where there is no prior). A pixel is valid where the prior has depth and
// A > kGeometryMinAlpha; its expected depth is d = D / A.
//   Depth:  L_D = weight_depth * (1 - pearson(d, prior depth)) over valid pixels: scale- and shift-invariant, so a
//           prior of the right shape but not the person's exact size or distance still constrains the surface.
//   Normal: the surface point of a pixel is P = d * ((x + 0.5 - cx) / fx, (y + 0.5 - cy) / fy, 1); at a valid pixel
//           whose four neighbours are valid, N = normalise((P(y+1) - P(y-1)) x (P(x+1) - P(x-1))) (towards the
//           camera for a surface facing it) and L_N = weight_normal * mean(1 - N . prior normal).
// Both means are over the pixels that count (not the paper's sum: the photometric terms are means too).
//
// Two passes: statistics (sums over valid pixels, into `sums`), then per pixel the gradient, gathered from the
// pixels whose terms involve it (no atomics), ADDED into grad_depth and grad_alpha.
#pragma once
#include <cmath>
#include <cstdint>

#include "../core/common.h"

namespace splatcast {

constexpr float kGeometryMinAlpha = 0.5f;
// Fewer valid pixels than this: no depth term (a correlation of a few pixels is noise).
constexpr int kGeometryMinPixels = 16;

// sums: n, sum d, sum z, sum d^2, sum z^2, sum d z, normal pixels, sum (1 - N . prior normal).
enum GeometrySum { kGN, kGD, kGZ, kGDD, kGZZ, kGDZ, kGM, kGL, kGeometrySums };

struct GeometryLossArgs {
  int32_t height, width;
  float fx, fy, cx, cy;
  const float* depth;  // [H, W] sum of z * alpha * T
  const float* alpha;  // [H, W]
  const float* prior;  // [H, W, 4]
  float weight_depth, weight_normal;
  double* sums;       // [kGeometrySums] workspace (double: the Pearson sums cancel), written by pass 1
  float* loss;        // [2]: depth term, normal term (weighted), written
  float* grad_depth;  // [H, W], added to; or null (loss only)
  float* grad_alpha;  // [H, W], added to
};

struct GeoVec {
  float x, y, z;
};
SC_HD inline GeoVec geo_sub(GeoVec a, GeoVec b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
SC_HD inline GeoVec geo_cross(GeoVec a, GeoVec b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
SC_HD inline float geo_dot(GeoVec a, GeoVec b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
SC_HD inline GeoVec geo_scale(GeoVec a, float s) { return {a.x * s, a.y * s, a.z * s}; }

SC_HD inline bool geo_valid(const GeometryLossArgs& g, int x, int y) {
  if (x < 0 || y < 0 || x >= g.width || y >= g.height) return false;
  const int64_t p = static_cast<int64_t>(y) * g.width + x;
  return g.prior[4 * p + 3] > 0.f && g.alpha[p] > kGeometryMinAlpha;
}
SC_HD inline float geo_d(const GeometryLossArgs& g, int x, int y) {
  const int64_t p = static_cast<int64_t>(y) * g.width + x;
  return g.depth[p] / g.alpha[p];
}
// The camera ray through a pixel centre, at unit depth.
SC_HD inline GeoVec geo_ray(const GeometryLossArgs& g, int x, int y) {
  return {(static_cast<float>(x) + 0.5f - g.cx) / g.fx, (static_cast<float>(y) + 0.5f - g.cy) / g.fy, 1.f};
}
SC_HD inline GeoVec geo_point(const GeometryLossArgs& g, int x, int y) { return geo_scale(geo_ray(g, x, y), geo_d(g, x, y)); }
SC_HD inline bool geo_normal_pixel(const GeometryLossArgs& g, int x, int y) {
  return geo_valid(g, x, y) && geo_valid(g, x - 1, y) && geo_valid(g, x + 1, y) && geo_valid(g, x, y - 1) &&
         geo_valid(g, x, y + 1);
}

// One normal pixel's term 1 - N . prior, and when wanted dL/d tx and dL/d ty (tangents along x and y).
struct GeoNormalTerm {
  float loss;
  GeoVec d_tx, d_ty;
};
SC_HD inline GeoNormalTerm geo_normal_term(const GeometryLossArgs& g, int x, int y) {
  const GeoVec tx = geo_sub(geo_point(g, x + 1, y), geo_point(g, x - 1, y));
  const GeoVec ty = geo_sub(geo_point(g, x, y + 1), geo_point(g, x, y - 1));
  const GeoVec n = geo_cross(ty, tx);
  const float len = sqrtf(geo_dot(n, n));
  const int64_t p = static_cast<int64_t>(y) * g.width + x;
  const GeoVec prior = {g.prior[4 * p], g.prior[4 * p + 1], g.prior[4 * p + 2]};
  if (!(len > 1e-12f)) return {1.f, {0.f, 0.f, 0.f}, {0.f, 0.f, 0.f}};
  const GeoVec nn = geo_scale(n, 1.f / len);
  const float c = geo_dot(nn, prior);
  // d(1 - nn . prior)/dn = -(prior - nn (nn . prior)) / |n|; then through n = ty x tx.
  const GeoVec dn = geo_scale(geo_sub(prior, geo_scale(nn, c)), -1.f / len);
  return {1.f - c, geo_cross(dn, ty), geo_cross(tx, dn)};
}

// Pass 1 at one pixel: adds its statistics into s[kGeometrySums].
template <typename Acc>
SC_HD inline void geometry_stats_at(const GeometryLossArgs& g, int x, int y, Acc* s) {
  if (!geo_valid(g, x, y)) return;
  const int64_t p = static_cast<int64_t>(y) * g.width + x;
  const Acc d = geo_d(g, x, y), z = g.prior[4 * p + 3];
  s[kGN] += 1;
  s[kGD] += d;
  s[kGZ] += z;
  s[kGDD] += d * d;
  s[kGZZ] += z * z;
  s[kGDZ] += d * z;
  if (geo_normal_pixel(g, x, y)) {
    s[kGM] += 1;
    s[kGL] += geo_normal_term(g, x, y).loss;
  }
}

// The depth term's constants from the sums: dL/dd_i = k_b (z_i - mean z) + k_a (d_i - mean d).
struct GeoDepthTerm {
  bool on;
  float loss, mean_d, mean_z, k_a, k_b;
};
SC_HD inline GeoDepthTerm geo_depth_term(const GeometryLossArgs& g) {
  const double n = g.sums[kGN];
  if (n < kGeometryMinPixels) return {false, 0.f, 0.f, 0.f, 0.f, 0.f};
  const double md = g.sums[kGD] / n, mz = g.sums[kGZ] / n;
  const double saa = g.sums[kGDD] - n * md * md, sbb = g.sums[kGZZ] - n * mz * mz, sab = g.sums[kGDZ] - n * md * mz;
  if (!(saa > 1e-12 && sbb > 1e-12)) return {false, 0.f, 0.f, 0.f, 0.f, 0.f};
  const double root = sqrt(saa * sbb), corr = sab / root, w = g.weight_depth;
  return {true, static_cast<float>(w * (1 - corr)), static_cast<float>(md), static_cast<float>(mz),
          static_cast<float>(w * corr / saa), static_cast<float>(-w / root)};
}

// Pass 2 at pixel q: dL/d d(q) from the depth term and the normal terms of its neighbours (normal_scale =
// weight_normal / normal pixels), then to D and A.
SC_HD inline void geometry_grad_at(const GeometryLossArgs& g, const GeoDepthTerm& dt, float normal_scale, int x,
                                   int y) {
  if (!geo_valid(g, x, y)) return;
  const int64_t q = static_cast<int64_t>(y) * g.width + x;
  float dd = 0.f;
  if (dt.on) dd += dt.k_b * (g.prior[4 * q + 3] - dt.mean_z) + dt.k_a * (geo_d(g, x, y) - dt.mean_d);
  if (normal_scale != 0.f) {
    const GeoVec r = geo_ray(g, x, y);
    // q is the x+1 neighbour of (x-1, y), the x-1 neighbour of (x+1, y), and likewise along y.
    float dn = 0.f;
    if (geo_normal_pixel(g, x - 1, y)) dn += geo_dot(r, geo_normal_term(g, x - 1, y).d_tx);
    if (geo_normal_pixel(g, x + 1, y)) dn -= geo_dot(r, geo_normal_term(g, x + 1, y).d_tx);
    if (geo_normal_pixel(g, x, y - 1)) dn += geo_dot(r, geo_normal_term(g, x, y - 1).d_ty);
    if (geo_normal_pixel(g, x, y + 1)) dn -= geo_dot(r, geo_normal_term(g, x, y + 1).d_ty);
    dd += normal_scale * dn;
  }
  const float a = g.alpha[q];
  g.grad_depth[q] += dd / a;
  g.grad_alpha[q] -= dd * g.depth[q] / (a * a);
}

void geometry_loss_cpu(const GeometryLossArgs& args);
void geometry_loss_cuda(const GeometryLossArgs& args);

}  // namespace splatcast
