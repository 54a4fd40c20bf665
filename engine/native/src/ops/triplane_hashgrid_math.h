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

}  // namespace splatcast
