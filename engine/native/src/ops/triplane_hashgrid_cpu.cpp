#include <cmath>
#include <stdexcept>
#include <string>

#include "../core/parallel.h"
#include "../core/simd.h"
#include "triplane_hashgrid_math.h"

namespace splatcast {

namespace {
constexpr int kMaxHashFeatures = 8;
constexpr int kPointBlock = 16;
constexpr int64_t kPointBlocksPerChunk = 16;  // thread-pool grain: 256 points

// triplane_hashgrid_point (triplane_hashgrid_math.h) for up to kPointBlock points at once, with the same arithmetic
// per point (the AVX2 and AVX-512 clones may fuse multiply-adds, as the GPU does). The loops over points run
// innermost, so the compiler vectorises them: cells and weights, then the table lookups (gathers).
SC_CPU_CLONES
void triplane_hashgrid_block(const HashgridLayout& L, const float* table, const float* xyz, int points, float* out) {
  const float inv = 1.f / (2.f * L.bound);
  float p[3][kPointBlock] = {};  // lanes past `points` stay at the origin
  for (int r = 0; r < points; ++r)
    for (int i = 0; i < 3; ++i) p[i][r] = xyz[r * 3 + i];
  float u[3][kPointBlock];
  for (int i = 0; i < 3; ++i)
    for (int r = 0; r < kPointBlock; ++r) {
      const float v = (p[i][r] + L.bound) * inv;
      u[i][r] = v > 0.f ? (v < 1.f ? v : 1.f) : 0.f;  // fminf(fmaxf(v, 0), 1), NaN to 0 included
    }
  const int axis_a[3] = {0, 1, 0};  // planes xy, yz, xz
  const int axis_b[3] = {1, 2, 2};
  const int F = L.features, dim = L.output_dim();
  float features[3 * kMaxHashLevels * kMaxHashFeatures][kPointBlock];  // [output element][point]
  for (int plane = 0; plane < 3; ++plane) {
    const float* plane_table = table + static_cast<size_t>(plane) * L.plane_entries() * F;
    const float *ua = u[axis_a[plane]], *ub = u[axis_b[plane]];
    for (int level = 0; level < L.levels; ++level) {
      const float scale = L.scale[level];
      uint32_t i00[kPointBlock], i10[kPointBlock], i01[kPointBlock], i11[kPointBlock];
      float w00[kPointBlock], w10[kPointBlock], w01[kPointBlock], w11[kPointBlock];
      auto cells = [&] {
        for (int r = 0; r < kPointBlock; ++r) {
          const float pa = ua[r] * scale + 0.5f, pb = ub[r] * scale + 0.5f;
          // pa, pb >= 0.5 since u is clamped to [0, 1]: truncation is floorf here, in a form that vectorises.
          const int32_t ta = static_cast<int32_t>(pa), tb = static_cast<int32_t>(pb);
          const float wa = pa - static_cast<float>(ta), wb = pb - static_cast<float>(tb);
          const uint32_t ia = static_cast<uint32_t>(ta), ib = static_cast<uint32_t>(tb);
          i00[r] = hashgrid_index(L, level, ia, ib), i10[r] = hashgrid_index(L, level, ia + 1, ib);
          i01[r] = hashgrid_index(L, level, ia, ib + 1), i11[r] = hashgrid_index(L, level, ia + 1, ib + 1);
          w00[r] = (1 - wa) * (1 - wb), w10[r] = wa * (1 - wb), w01[r] = (1 - wa) * wb, w11[r] = wa * wb;
        }
      };
      // One copy of the loop per kind of level: inside each, hashgrid_index's dense-or-hashed test is known, so the
      // loop is branch-free and vectorises.
      if (L.resolution[level] * L.resolution[level] <= L.entries[level])
        cells();
      else
        cells();
      const float* level_table = plane_table + static_cast<size_t>(L.offset[level]) * F;
      for (int f = 0; f < F; ++f) {
        float* o = features[(plane * L.levels + level) * F + f];
        for (int r = 0; r < kPointBlock; ++r)
          o[r] = w00[r] * level_table[i00[r] * F + f] + w10[r] * level_table[i10[r] * F + f] +
                 w01[r] * level_table[i01[r] * F + f] + w11[r] * level_table[i11[r] * F + f];
      }
    }
  }
  for (int r = 0; r < points; ++r)
    for (int e = 0; e < dim; ++e) out[r * dim + e] = features[e][r];
}
}  // namespace

HashgridLayout make_hashgrid_layout(const HashgridConfig& c) {
  if (c.levels < 1 || c.levels > kMaxHashLevels)
    throw std::invalid_argument("hashgrid levels must be 1.." + std::to_string(kMaxHashLevels));
  if (c.features < 1 || c.features > kMaxHashFeatures)
    throw std::invalid_argument("hashgrid features must be 1.." + std::to_string(kMaxHashFeatures));
  if (c.log2_table < 4 || c.log2_table > 24) throw std::invalid_argument("hashgrid log2_table must be 4..24");
  if (!(c.base_resolution >= 2.f) || !(c.max_resolution >= c.base_resolution))
    throw std::invalid_argument("hashgrid resolutions must satisfy 2 <= base <= max");
  if (!(c.bound > 0.f)) throw std::invalid_argument("hashgrid bound must be > 0");
  HashgridLayout L{};
  L.levels = c.levels;
  L.features = c.features;
  L.bound = c.bound;
  const double growth =
      c.levels > 1 ? std::exp((std::log(c.max_resolution) - std::log(c.base_resolution)) / (c.levels - 1)) : 1.0;
  const uint64_t table = 1ull << c.log2_table;
  L.offset[0] = 0;
  for (int l = 0; l < c.levels; ++l) {
    double scale = c.base_resolution * std::pow(growth, l) - 1.0;
    L.scale[l] = static_cast<float>(scale);
    uint64_t res = static_cast<uint64_t>(std::ceil(scale)) + 2;
    L.resolution[l] = static_cast<uint32_t>(res);
    L.entries[l] = static_cast<uint32_t>(res * res < table ? res * res : table);
    L.offset[l + 1] = L.offset[l] + L.entries[l];
  }
  return L;
}

void triplane_hashgrid_forward_cpu(const TriplaneHashgridArgs& a) {
  const int dim = a.layout.output_dim();
  for (int s = 0; s < a.seg.count; ++s)
    parallel_for_blocks(a.seg, s, kPointBlock, kPointBlocksPerChunk, [&](int32_t row, int points) {
      triplane_hashgrid_block(a.layout, a.tables.at[s], a.xyz + static_cast<size_t>(row) * 3, points,
                              a.out + static_cast<size_t>(row) * dim);
    });
}

void triplane_hashgrid_backward_cpu(const TriplaneHashgridBackwardArgs& a) {
  const HashgridLayout& L = a.layout;
  const int F = L.features, dim = L.output_dim();
  // One job per (plane, level): it owns that range of every table, so no two jobs touch one float, and it adds its
  // rows in row order (segments in order, so segments sharing a table add in a fixed order too).
  parallel_for(3 * L.levels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t job = begin; job < end; ++job) {
      const int plane = static_cast<int>(job / L.levels), level = static_cast<int>(job % L.levels);
      const int axis_a = hashgrid_axis_a(plane), axis_b = hashgrid_axis_b(plane);
      const int column = (plane * L.levels + level) * F;
      for (int s = 0; s < a.seg.count; ++s) {
        float* t = a.grad_tables.at[s] + hashgrid_level_start(L, plane, level);
        for (int32_t row = a.seg.offset[s]; row < a.seg.offset[s + 1]; ++row) {
          const float* p = a.xyz + static_cast<size_t>(row) * 3;
          bool inside;
          const HashgridCell c =
              hashgrid_cell(L, level, hashgrid_unit(L, p[axis_a], &inside), hashgrid_unit(L, p[axis_b], &inside));
          const float* g = a.grad_out + static_cast<size_t>(row) * dim + column;
          for (int f = 0; f < F; ++f) {
            t[c.i00 * F + f] += c.w00() * g[f];
            t[c.i10 * F + f] += c.w10() * g[f];
            t[c.i01 * F + f] += c.w01() * g[f];
            t[c.i11 * F + f] += c.w11() * g[f];
          }
        }
      }
    }
  });
  if (!a.grad_xyz) return;
  parallel_for_rows(a.seg, kPointBlock * kPointBlocksPerChunk, [&](int s, int32_t row) {
    const size_t r = static_cast<size_t>(row);
    triplane_hashgrid_point_grad_xyz(L, a.tables.at[s], a.xyz + r * 3, a.grad_out + r * dim, a.grad_xyz + r * 3);
  });
}

}  // namespace splatcast
