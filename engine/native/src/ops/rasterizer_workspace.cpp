#include <cstdlib>
#include <new>

#include "../core/cuda_runtime.h"
#include "rasterizer.h"

namespace splatcast {

void* RasterBuffer::reserve(size_t bytes) {
  if (bytes <= capacity_) return data_;
  // 1.5x headroom: intersection counts drift from frame to frame, and each growth costs a free and an
  // allocation (on CUDA an implicit device-wide sync).
  const size_t grown = (bytes + bytes / 2 + 255) / 256 * 256;
  release();
  if (device_ == Device::Cpu) {
    data_ = std::aligned_alloc(64, grown);
    if (!data_) throw std::bad_alloc();
  } else {
    data_ = cuda::malloc_device(grown);
  }
  capacity_ = grown;
  return data_;
}

void RasterBuffer::release() {
  if (!data_) return;
  if (device_ == Device::Cpu) std::free(data_);
  else cuda::free_device(data_);
  data_ = nullptr;
  capacity_ = 0;
}

void record_context(const RasterizerArgs& a, int32_t intersections, const uint32_t* sorted_rows,
                    RasterContext& context) {
  context.seg = a.seg;
  context.opt = a.opt;
  context.intersections = intersections;
  context.sorted_rows = sorted_rows;
  context.means = a.means;
  context.rotations = a.rotations;
  context.scales = a.scales;
  context.cameras = a.cameras;
  context.opacities = a.opacities;
  context.sh = a.sh;
  context.valid = true;
}

size_t RasterWorkspace::reserved_bytes() const {
  return splats.capacity() + rects.capacity() + counts.capacity() + offsets.capacity() + ranges.capacity() +
         keys[0].capacity() + keys[1].capacity() + rows[0].capacity() + rows[1].capacity() + scratch.capacity() +
         pixel_T.capacity() + pixel_end.capacity() + splat_grads.capacity();
}

}  // namespace splatcast
