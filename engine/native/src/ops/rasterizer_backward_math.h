// Per-pixel and per-Gaussian arithmetic of the rasterizer's backward pass, shared by the CPU twin and the CUDA
// kernels. Plain float, except where it repeats a decision of the forward (did this pixel blend this Gaussian?):
// there it uses the forward's Strict expressions, so the answer is the forward's, bit for bit.
#pragma once
#include <cmath>

#include "rasterizer_backward.h"
#include "rasterizer_math.h"

namespace splatcast {

// One pixel while the backward walks its blended Gaussians back to front.
struct PixelGrad {
  float px, py;
  float T;  // transmittance behind the Gaussian being visited; starts at the final T
  float final_T;
  float d_r, d_g, d_b, d_alpha, d_depth;  // upstream gradients
  // Colour and depth blended behind the Gaussian being visited, per unit of transmittance in front of it.
  float behind_r, behind_g, behind_b, behind_depth;
};

SC_HD inline PixelGrad pixel_grad(const RasterizerGrads& g, size_t pixel, int x, int y, float final_T) {
  PixelGrad p;
  p.px = static_cast<float>(x) + 0.5f;
  p.py = static_cast<float>(y) + 0.5f;
  p.T = p.final_T = final_T;
  p.d_r = g.rgb[pixel * 3];
  p.d_g = g.rgb[pixel * 3 + 1];
  p.d_b = g.rgb[pixel * 3 + 2];
  p.d_alpha = g.alpha[pixel];
  p.d_depth = g.depth ? g.depth[pixel] : 0.f;
  p.behind_r = p.behind_g = p.behind_b = p.behind_depth = 0.f;
  return p;
}

// The gradient pixel p sends Gaussian g (into `out`), for the next Gaussian back to front in p's blended span.
// Returns false, leaving `out` and p alone, where the forward skipped g at p (the same tests as blend_splat).
// Colour C = sum c_i a_i T_i with T_(i+1) = T_i (1 - a_i), so dC/da_i = T_i (c_i - behind_i), where behind_i is what
// lies behind i per unit of T_(i+1); alpha = 1 - T_final gives d alpha / da_i = T_final / (1 - a_i). Depth blends
// like a colour channel.
SC_HD inline bool blend_splat_backward(const ProjectedSplat& g, PixelGrad& p, SplatGrad& out) {
  const Strict dx = Strict(g.u) - p.px, dy = Strict(g.v) - p.py;
  const Strict sigma = splat_sigma(g, dx, dy);
  if (sigma.v < 0.f || sigma.v > kSigmaCut) return false;
  const Strict falloff = strict_exp(-sigma);
  const float unclamped = (g.opacity * falloff).v;
  const float alpha = fminf(kMaxAlpha, unclamped);
  if (alpha < kMinAlpha) return false;

  const float keep = 1.f - alpha;
  const float T = p.T / keep;  // in front of g
  const float w = alpha * T;
  out.r = p.d_r * w;
  out.g = p.d_g * w;
  out.b = p.d_b * w;
  out.depth = p.d_depth * w;
  const float d_alpha = T * (p.d_r * (g.r - p.behind_r) + p.d_g * (g.g - p.behind_g) + p.d_b * (g.b - p.behind_b) +
                             p.d_depth * (g.depth - p.behind_depth)) +
                        p.d_alpha * p.final_T / keep;
  p.behind_r = g.r * alpha + p.behind_r * keep;
  p.behind_g = g.g * alpha + p.behind_g * keep;
  p.behind_b = g.b * alpha + p.behind_b * keep;
  p.behind_depth = g.depth * alpha + p.behind_depth * keep;
  p.T = T;

  // Past the 0.99 clamp alpha is a constant: nothing reaches the opacity or the footprint.
  const bool clamped = unclamped > kMaxAlpha;
  const float d_sigma = clamped ? 0.f : -d_alpha * alpha;  // alpha = opacity exp(-sigma)
  out.opacity = clamped ? 0.f : d_alpha * falloff.v;
  const float fx = dx.v, fy = dy.v;
  out.u = d_sigma * (g.conic_a * fx + g.conic_b * fy);
  out.v = d_sigma * (g.conic_b * fx + g.conic_c * fy);
  out.conic_a = 0.5f * d_sigma * fx * fx;
  out.conic_b = d_sigma * fx * fy;
  out.conic_c = 0.5f * d_sigma * fy * fy;
  return true;
}

SC_HD inline void add_splat_grad(SplatGrad& to, const SplatGrad& d) {
  to.u += d.u;
  to.v += d.v;
  to.conic_a += d.conic_a;
  to.conic_b += d.conic_b;
  to.conic_c += d.conic_c;
  to.opacity += d.opacity;
  to.depth += d.depth;
  to.r += d.r;
  to.g += d.g;
  to.b += d.b;
}

// One colour channel of sh_channel (rasterizer_math.h) backwards: writes dL/d coefficients into d_sh (laid out like
// sh: coefficient 0 of the channel, 3 floats apart) and adds the channel's dL/d view direction to d_dir.
SC_HD inline void sh_channel_backward(const float* sh, float* d_sh, int degree, float x, float y, float z, float d_c,
                                      float* d_dir) {
  const float C0 = 0.28209479177387814f, C1 = 0.4886025119029199f;
  const float C20 = 1.0925484305920792f, C21 = -1.0925484305920792f, C22 = 0.31539156525252005f,
              C23 = -1.0925484305920792f, C24 = 0.5462742152960396f;
  d_sh[0] = C0 * d_c;
  if (degree < 1) return;
  d_sh[3] = -C1 * y * d_c;
  d_sh[6] = C1 * z * d_c;
  d_sh[9] = -C1 * x * d_c;
  float gx = -C1 * sh[9], gy = -C1 * sh[3], gz = C1 * sh[6];
  if (degree >= 2) {
    d_sh[12] = C20 * x * y * d_c;
    d_sh[15] = C21 * y * z * d_c;
    d_sh[18] = C22 * (2.f * z * z - x * x - y * y) * d_c;
    d_sh[21] = C23 * x * z * d_c;
    d_sh[24] = C24 * (x * x - y * y) * d_c;
    gx += C20 * y * sh[12] - 2.f * C22 * x * sh[18] + C23 * z * sh[21] + 2.f * C24 * x * sh[24];
    gy += C20 * x * sh[12] + C21 * z * sh[15] - 2.f * C22 * y * sh[18] - 2.f * C24 * y * sh[24];
    gz += C21 * y * sh[15] + 4.f * C22 * z * sh[18] + C23 * x * sh[21];
  }
  d_dir[0] += gx * d_c;
  d_dir[1] += gy * d_c;
  d_dir[2] += gz * d_c;
}

SC_HD inline void zero_gaussian_grads(const RasterizerGrads& out, int32_t row, int sh_coeffs) {
  const size_t r = static_cast<size_t>(row);
  for (int c = 0; c < 3; ++c) out.means[r * 3 + c] = out.scales[r * 3 + c] = 0.f;
  for (int c = 0; c < 4; ++c) out.rotations[r * 4 + c] = 0.f;
  for (int c = 0; c < sh_coeffs * 3; ++c) out.sh[r * sh_coeffs * 3 + c] = 0.f;
  out.opacities[r] = 0.f;
  if (out.means2d_norm) out.means2d_norm[r] = 0.f;
  if (out.radii) out.radii[r] = 0.f;
}

// Gradients of visible Gaussian `row` (segment s) from `g`, its splat gradient summed over pixels. Recomputes
// project_splat's intermediate values (in plain float); `splat` is what the forward stored: its colour tells where
// the clamp at 0 cut the gradient.
SC_HD inline void gaussian_backward(const RasterizerArgs& a, const RasterizerGrads& out, int s, int32_t row,
                                    const ProjectedSplat& splat, const SplatGrad& g) {
  const float* cam = a.cameras + static_cast<size_t>(s) * kCameraStride;
  const float* m = a.means + static_cast<size_t>(row) * 3;
  const float x = cam[0] * m[0] + cam[1] * m[1] + cam[2] * m[2] + cam[3];
  const float y = cam[4] * m[0] + cam[5] * m[1] + cam[6] * m[2] + cam[7];
  const float z = cam[8] * m[0] + cam[9] * m[1] + cam[10] * m[2] + cam[11];

  const float* q = a.rotations + static_cast<size_t>(row) * 4;
  const float qn = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  const float qw = q[0] / qn, qx = q[1] / qn, qy = q[2] / qn, qz = q[3] / qn;
  const float R[3][3] = {
      {1.f - 2.f * (qy * qy + qz * qz), 2.f * (qx * qy - qw * qz), 2.f * (qx * qz + qw * qy)},
      {2.f * (qx * qy + qw * qz), 1.f - 2.f * (qx * qx + qz * qz), 2.f * (qy * qz - qw * qx)},
      {2.f * (qx * qz - qw * qy), 2.f * (qy * qz + qw * qx), 1.f - 2.f * (qx * qx + qy * qy)},
  };
  const float* sc = a.scales + static_cast<size_t>(row) * 3;
  float WR[3][3], A[3][3];  // camera rotation times R; A = W R S
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      WR[i][j] = cam[4 * i] * R[0][j] + cam[4 * i + 1] * R[1][j] + cam[4 * i + 2] * R[2][j];
      A[i][j] = WR[i][j] * sc[j];
    }

  const float fx = cam[16], fy = cam[17], cx = cam[18], cy = cam[19];
  const float width = static_cast<float>(a.opt.width), height = static_cast<float>(a.opt.height);
  const float xz = x / z, yz = y / z;
  const float lo_x = -(cx / fx + 0.3f * (0.5f * width / fx)), hi_x = (width - cx) / fx + 0.3f * (0.5f * width / fx);
  const float lo_y = -(cy / fy + 0.3f * (0.5f * height / fy)), hi_y = (height - cy) / fy + 0.3f * (0.5f * height / fy);
  const float tx = fminf(fmaxf(xz, lo_x), hi_x), ty = fminf(fmaxf(yz, lo_y), hi_y);
  const float j00 = fx / z, j11 = fy / z, j02 = -j00 * tx, j12 = -j11 * ty;
  float b0[3], b1[3], cov_a = kDilation, cov_b = 0.f, cov_c = kDilation;
  for (int k = 0; k < 3; ++k) {
    b0[k] = j00 * A[0][k] + j02 * A[2][k];
    b1[k] = j11 * A[1][k] + j12 * A[2][k];
    cov_a += b0[k] * b0[k];
    cov_b += b0[k] * b1[k];
    cov_c += b1[k] * b1[k];
  }

  // conic = inverse of [[cov_a, cov_b], [cov_b, cov_c]]; the dilation is a constant and passes the gradient on.
  const float det = cov_a * cov_c - cov_b * cov_b, inv_det2 = 1.f / (det * det);
  const float d_cov_a = inv_det2 * (-cov_c * cov_c * g.conic_a + cov_b * cov_c * g.conic_b - cov_b * cov_b * g.conic_c);
  const float d_cov_b = inv_det2 * (2.f * cov_b * cov_c * g.conic_a - (cov_a * cov_c + cov_b * cov_b) * g.conic_b +
                                    2.f * cov_a * cov_b * g.conic_c);
  const float d_cov_c = inv_det2 * (-cov_b * cov_b * g.conic_a + cov_a * cov_b * g.conic_b - cov_a * cov_a * g.conic_c);

  // 2D covariance = B B^T with B = J A.
  float d_j00 = 0.f, d_j02 = 0.f, d_j11 = 0.f, d_j12 = 0.f, d_A[3][3];
  for (int k = 0; k < 3; ++k) {
    const float d_b0 = 2.f * d_cov_a * b0[k] + d_cov_b * b1[k];
    const float d_b1 = d_cov_b * b0[k] + 2.f * d_cov_c * b1[k];
    d_A[0][k] = d_b0 * j00;
    d_A[1][k] = d_b1 * j11;
    d_A[2][k] = d_b0 * j02 + d_b1 * j12;
    d_j00 += d_b0 * A[0][k];
    d_j02 += d_b0 * A[2][k];
    d_j11 += d_b1 * A[1][k];
    d_j12 += d_b1 * A[2][k];
  }

  // A = W R S: to the scales and to R.
  float d_R[3][3];
  for (int j = 0; j < 3; ++j) {
    float d_s = 0.f;
    for (int i = 0; i < 3; ++i) d_s += d_A[i][j] * WR[i][j];
    out.scales[static_cast<size_t>(row) * 3 + j] = d_s;
    for (int r = 0; r < 3; ++r)
      d_R[r][j] = (d_A[0][j] * cam[r] + d_A[1][j] * cam[4 + r] + d_A[2][j] * cam[8 + r]) * sc[j];
  }
  // R of the unit quaternion, then the normalisation q / |q| (its gradient is orthogonal to q).
  const float d_qw = 2.f * (-qz * d_R[0][1] + qy * d_R[0][2] + qz * d_R[1][0] - qx * d_R[1][2] - qy * d_R[2][0] +
                            qx * d_R[2][1]);
  const float d_qx = 2.f * (qy * d_R[0][1] + qz * d_R[0][2] + qy * d_R[1][0] - 2.f * qx * d_R[1][1] -
                            qw * d_R[1][2] + qz * d_R[2][0] + qw * d_R[2][1] - 2.f * qx * d_R[2][2]);
  const float d_qy = 2.f * (-2.f * qy * d_R[0][0] + qx * d_R[0][1] + qw * d_R[0][2] + qx * d_R[1][0] +
                            qz * d_R[1][2] - qw * d_R[2][0] + qz * d_R[2][1] - 2.f * qy * d_R[2][2]);
  const float d_qz = 2.f * (-2.f * qz * d_R[0][0] - qw * d_R[0][1] + qx * d_R[0][2] + qw * d_R[1][0] -
                            2.f * qz * d_R[1][1] + qy * d_R[1][2] + qx * d_R[2][0] + qy * d_R[2][1]);
  const float along = qw * d_qw + qx * d_qx + qy * d_qy + qz * d_qz;
  float* d_q = out.rotations + static_cast<size_t>(row) * 4;
  d_q[0] = (d_qw - qw * along) / qn;
  d_q[1] = (d_qx - qx * along) / qn;
  d_q[2] = (d_qy - qy * along) / qn;
  d_q[3] = (d_qz - qz * along) / qn;

  // Camera-space mean: u = fx x/z + cx, v = fy y/z + cy, the blended depth z, and the Jacobian (j00 = fx/z,
  // j02 = -fx tx/z with tx = x/z unless clamped; likewise in y).
  const float iz = 1.f / z, iz2 = iz * iz;
  float d_x = g.u * fx * iz, d_y = g.v * fy * iz;
  float d_z = g.depth - (g.u * fx * x + g.v * fy * y) * iz2 - (d_j00 * fx + d_j11 * fy) * iz2 +
              (d_j02 * fx * tx + d_j12 * fy * ty) * iz2;
  if (xz > lo_x && xz < hi_x) {
    d_x -= d_j02 * fx * iz2;
    d_z += d_j02 * fx * x * iz2 * iz;
  }
  if (yz > lo_y && yz < hi_y) {
    d_y -= d_j12 * fy * iz2;
    d_z += d_j12 * fy * y * iz2 * iz;
  }
  float d_m[3];
  for (int c = 0; c < 3; ++c) d_m[c] = cam[c] * d_x + cam[4 + c] * d_y + cam[8 + c] * d_z;

  // Colour: SH in the direction from the camera centre -W^T t; zero where the forward clamped it at 0.
  float dir[3], centre[3];
  for (int c = 0; c < 3; ++c) {
    centre[c] = -(cam[c] * cam[3] + cam[4 + c] * cam[7] + cam[8 + c] * cam[11]);
    dir[c] = m[c] - centre[c];
  }
  const float dn = sqrtf(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
  const float nx = dir[0] / dn, ny = dir[1] / dn, nz = dir[2] / dn;
  const int32_t local = row - a.seg.offset[s];
  const int coeffs = a.opt.sh_coeffs();
  const float* sh = a.sh.at[s] + static_cast<size_t>(local) * coeffs * 3;
  float* d_sh = out.sh + static_cast<size_t>(row) * coeffs * 3;
  float d_n[3] = {0.f, 0.f, 0.f};
  const int degree = a.opt.sh_degree;
  sh_channel_backward(sh, d_sh, degree, nx, ny, nz, splat.r > 0.f ? g.r : 0.f, d_n);
  sh_channel_backward(sh + 1, d_sh + 1, degree, nx, ny, nz, splat.g > 0.f ? g.g : 0.f, d_n);
  sh_channel_backward(sh + 2, d_sh + 2, degree, nx, ny, nz, splat.b > 0.f ? g.b : 0.f, d_n);
  const float d_n_along = nx * d_n[0] + ny * d_n[1] + nz * d_n[2];
  d_m[0] += (d_n[0] - nx * d_n_along) / dn;
  d_m[1] += (d_n[1] - ny * d_n_along) / dn;
  d_m[2] += (d_n[2] - nz * d_n_along) / dn;
  for (int c = 0; c < 3; ++c) out.means[static_cast<size_t>(row) * 3 + c] = d_m[c];

  // opacity = sigmoid(raw clamped to [-80, 80]).
  const float raw = a.opacities.at[s][local], o = splat.opacity;
  out.opacities[row] = raw > -80.f && raw < 80.f ? g.opacity * o * (1.f - o) : 0.f;
  if (out.means2d_norm) {
    const float ndc_u = g.u * 0.5f * width, ndc_v = g.v * 0.5f * height;
    out.means2d_norm[row] = sqrtf(ndc_u * ndc_u + ndc_v * ndc_v);
  }
  if (out.radii) out.radii[row] = splat.radius;
}

}  // namespace splatcast
