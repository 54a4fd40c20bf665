#include "../core/cuda_runtime.h"
#include "triplane_hashgrid_math.h"

namespace splatcast {

namespace {
__global__ void triplane_hashgrid_kernel(const __grid_constant__ TriplaneHashgridArgs a) {
  int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  int s = a.seg.segment_of(row);
  const float* p = a.xyz + static_cast<size_t>(row) * 3;
  triplane_hashgrid_point(a.layout, a.tables.at[s], p[0], p[1], p[2],
                          a.out + static_cast<size_t>(row) * a.layout.output_dim());
}

// A thread per row: scatters the row's output gradient onto the corners it interpolated (atomics: rows share
// corners, and segments of one identity share tables), then its position gradient.
__global__ void triplane_hashgrid_backward_kernel(const __grid_constant__ TriplaneHashgridBackwardArgs a) {
  const int32_t row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= a.seg.rows()) return;
  const HashgridLayout& L = a.layout;
  const int s = a.seg.segment_of(row), F = L.features;
  const float* p = a.xyz + static_cast<size_t>(row) * 3;
  const float* g = a.grad_out + static_cast<size_t>(row) * L.output_dim();
  bool inside;
  const float u[3] = {hashgrid_unit(L, p[0], &inside), hashgrid_unit(L, p[1], &inside),
                      hashgrid_unit(L, p[2], &inside)};
  for (int plane = 0; plane < 3; ++plane)
    for (int level = 0; level < L.levels; ++level) {
      const HashgridCell c = hashgrid_cell(L, level, u[hashgrid_axis_a(plane)], u[hashgrid_axis_b(plane)]);
      float* t = a.grad_tables.at[s] + hashgrid_level_start(L, plane, level);
      const float* go = g + (plane * L.levels + level) * F;
      for (int f = 0; f < F; ++f) {
        if (go[f] == 0.f) continue;  // masked-out rows cost no atomics
        atomicAdd(t + c.i00 * F + f, c.w00() * go[f]);
        atomicAdd(t + c.i10 * F + f, c.w10() * go[f]);
        atomicAdd(t + c.i01 * F + f, c.w01() * go[f]);
        atomicAdd(t + c.i11 * F + f, c.w11() * go[f]);
      }
    }
  if (a.grad_xyz)
    triplane_hashgrid_point_grad_xyz(L, a.tables.at[s], p, g, a.grad_xyz + static_cast<size_t>(row) * 3);
}
}  // namespace

void triplane_hashgrid_backward_cuda(const TriplaneHashgridBackwardArgs& a) {
  const int32_t rows = a.seg.rows();
  if (rows == 0) return;
  triplane_hashgrid_backward_kernel<<<(rows + 127) / 128, 128>>>(a);
  cuda::check_launch("triplane_hashgrid_backward");
}

void triplane_hashgrid_forward_cuda(const TriplaneHashgridArgs& a) {
  int32_t rows = a.seg.rows();
  if (rows == 0) return;
  triplane_hashgrid_kernel<<<(rows + 127) / 128, 128>>>(a);
  cuda::check_launch("triplane_hashgrid_forward");
}

}  // namespace splatcast
