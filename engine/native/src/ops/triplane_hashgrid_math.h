// The per-point arithmetic of the tri-plane hash encoding, shared verbatim by the CPU twin and the CUDA kernel.
#pragma once
#include <cmath>

#include "triplane_hashgrid.h"

namespace splatcast {

SC_HD inline uint32_t hashgrid_index(const HashgridLayout& L, int level, uint32_t x, uint32_t y) {
  uint32_t res = L.resolution[level];
  if (x >= res) x = res - 1;
  if (y >= res) y = res - 1;
  uint32_t entries = L.entries[level];
  // A hashed level has entries = 2^log2_table, so the modulo is a mask (no integer division, and branch-free code
  // that vectorises).
  return res * res <= entries ? y * res + x : (x ^ (y * 2654435761u)) & (entries - 1);
}

// Encodes one point into out[0 .. 3 * L * F).
SC_HD inline void triplane_hashgrid_point(const HashgridLayout& L, const float* table, float px, float py, float pz,
                                          float* out) {
  const float inv = 1.f / (2.f * L.bound);
  float u[3] = {(px + L.bound) * inv, (py + L.bound) * inv, (pz + L.bound) * inv};
  for (int i = 0; i < 3; ++i) u[i] = fminf(fmaxf(u[i], 0.f), 1.f);
  const int axis_a[3] = {0, 1, 0};  // planes xy, yz, xz
  const int axis_b[3] = {1, 2, 2};
  const int F = L.features;
  for (int plane = 0; plane < 3; ++plane) {
    const float* plane_table = table + static_cast<size_t>(plane) * L.plane_entries() * F;
    for (int level = 0; level < L.levels; ++level) {
      float pa = u[axis_a[plane]] * L.scale[level] + 0.5f;
      float pb = u[axis_b[plane]] * L.scale[level] + 0.5f;
      float fa = floorf(pa), fb = floorf(pb);
      float wa = pa - fa, wb = pb - fb;
      uint32_t ia = static_cast<uint32_t>(fa), ib = static_cast<uint32_t>(fb);
      const float* level_table = plane_table + static_cast<size_t>(L.offset[level]) * F;
      uint32_t i00 = hashgrid_index(L, level, ia, ib), i10 = hashgrid_index(L, level, ia + 1, ib);
      uint32_t i01 = hashgrid_index(L, level, ia, ib + 1), i11 = hashgrid_index(L, level, ia + 1, ib + 1);
      float w00 = (1 - wa) * (1 - wb), w10 = wa * (1 - wb), w01 = (1 - wa) * wb, w11 = wa * wb;
      float* o = out + (plane * L.levels + level) * F;
      for (int f = 0; f < F; ++f)
        o[f] = w00 * level_table[i00 * F + f] + w10 * level_table[i10 * F + f] + w01 * level_table[i01 * F + f] +
               w11 * level_table[i11 * F + f];
    }
  }
}

// --- Backward -------------------------------------------------------------------------------------------------

// The unit-cube coordinate of one axis (as the forward computes it) and whether it lies strictly inside (0, 1): a
// clamped coordinate does not move with the position.
SC_HD inline float hashgrid_unit(const HashgridLayout& L, float p, bool* inside) {
  const float v = (p + L.bound) * (1.f / (2.f * L.bound));
  *inside = v > 0.f && v < 1.f;
  return fminf(fmaxf(v, 0.f), 1.f);
}

// The four corners one level of one plane interpolates at (ua, ub), their table entries and bilinear weights.
struct HashgridCell {
  uint32_t i00, i10, i01, i11;
  float wa, wb;
  SC_HD float w00() const { return (1 - wa) * (1 - wb); }
  SC_HD float w10() const { return wa * (1 - wb); }
  SC_HD float w01() const { return (1 - wa) * wb; }
  SC_HD float w11() const { return wa * wb; }
};

SC_HD inline HashgridCell hashgrid_cell(const HashgridLayout& L, int level, float ua, float ub) {
  const float pa = ua * L.scale[level] + 0.5f, pb = ub * L.scale[level] + 0.5f;
  const float fa = floorf(pa), fb = floorf(pb);
  const uint32_t ia = static_cast<uint32_t>(fa), ib = static_cast<uint32_t>(fb);
  return {hashgrid_index(L, level, ia, ib),     hashgrid_index(L, level, ia + 1, ib),
          hashgrid_index(L, level, ia, ib + 1), hashgrid_index(L, level, ia + 1, ib + 1),
          pa - fa,                              pb - fb};
}

// The two axes of planes xy, yz, xz.
SC_HD inline int hashgrid_axis_a(int plane) { return plane == 1 ? 1 : 0; }
SC_HD inline int hashgrid_axis_b(int plane) { return plane == 0 ? 1 : 2; }

// Table entries of (plane, level) start here inside one encoder's parameters (times F for floats).
SC_HD inline size_t hashgrid_level_start(const HashgridLayout& L, int plane, int level) {
  return (static_cast<size_t>(plane) * L.plane_entries() + L.offset[level]) * L.features;
}

// dL/d xyz of one point from its output gradient g[0 .. 3 L F): through the bilinear weights of every level, times
// d(grid coordinate)/d(position) = scale * 1 / (2 bound) on axes that were not clamped.
SC_HD inline void triplane_hashgrid_point_grad_xyz(const HashgridLayout& L, const float* table, const float* p,
                                                   const float* g, float* grad_xyz) {
  bool inside[3];
  const float u[3] = {hashgrid_unit(L, p[0], &inside[0]), hashgrid_unit(L, p[1], &inside[1]),
                      hashgrid_unit(L, p[2], &inside[2])};
  float du[3] = {0.f, 0.f, 0.f};
  const int F = L.features;
  for (int plane = 0; plane < 3; ++plane) {
    const int a = hashgrid_axis_a(plane), b = hashgrid_axis_b(plane);
    for (int level = 0; level < L.levels; ++level) {
      const HashgridCell c = hashgrid_cell(L, level, u[a], u[b]);
      const float* t = table + hashgrid_level_start(L, plane, level);
      const float* go = g + (plane * L.levels + level) * F;
      float d_wa = 0.f, d_wb = 0.f;
      for (int f = 0; f < F; ++f) {
        const float v00 = t[c.i00 * F + f], v10 = t[c.i10 * F + f], v01 = t[c.i01 * F + f], v11 = t[c.i11 * F + f];
        d_wa += go[f] * ((1 - c.wb) * (v10 - v00) + c.wb * (v11 - v01));
        d_wb += go[f] * ((1 - c.wa) * (v01 - v00) + c.wa * (v11 - v10));
      }
      du[a] += d_wa * L.scale[level];
      du[b] += d_wb * L.scale[level];
    }
  }
  const float inv = 1.f / (2.f * L.bound);
  for (int i = 0; i < 3; ++i) grad_xyz[i] = inside[i] ? du[i] * inv : 0.f;
}

}  // namespace splatcast
