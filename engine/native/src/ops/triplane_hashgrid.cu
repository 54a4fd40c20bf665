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
}  // namespace

void triplane_hashgrid_forward_cuda(const TriplaneHashgridArgs& a) {
  int32_t rows = a.seg.rows();
  if (rows == 0) return;
  triplane_hashgrid_kernel<<<(rows + 127) / 128, 128>>>(a);
  cuda::check_launch("triplane_hashgrid_forward");
}

}  // namespace splatcast
