#include "tensor.h"

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "cuda_runtime.h"

namespace splatcast {

Tensor::Tensor(Device device, DType dtype, std::vector<int64_t> shape)
    : device_(device), dtype_(dtype), shape_(std::move(shape)) {
  numel_ = 1;
  for (int64_t d : shape_) {
    if (d < 0) throw std::invalid_argument("tensor dimensions must be >= 0");
    // 2^48 elements is far beyond any device; the bound keeps the product from overflowing.
    if (d > 0 && numel_ > (int64_t{1} << 48) / d) throw std::invalid_argument("tensor of shape " + describe() + " is too large");
    numel_ *= d;
  }
  if (bytes() == 0) return;
  if (device_ == Device::Cpu) {
    // 64-byte alignment keeps CPU loops vectorisable.
    size_t aligned = (bytes() + 63) / 64 * 64;
    data_ = std::aligned_alloc(64, aligned);
    if (!data_)
      throw std::runtime_error("out of host memory: cannot allocate " + std::to_string(bytes()) + " bytes for " + describe());
  } else {
    data_ = cuda::malloc_device(bytes());
  }
}

Tensor::~Tensor() {
  if (!data_) return;
  if (device_ == Device::Cpu) std::free(data_);
  else cuda::free_device(data_);
}

void Tensor::copy_from_host(const void* src, size_t n) {
  if (n != bytes()) throw std::invalid_argument("upload of " + std::to_string(n) + " bytes into " + describe());
  if (n == 0) return;
  if (device_ == Device::Cpu) std::memcpy(data_, src, n);
  else cuda::upload(data_, src, n);
}

void Tensor::copy_to_host(void* dst, size_t n) const {
  if (n != bytes()) throw std::invalid_argument("download of " + std::to_string(n) + " bytes from " + describe());
  if (n == 0) return;
  if (device_ == Device::Cpu) std::memcpy(dst, data_, n);
  else cuda::download(dst, data_, n);
}

void Tensor::copy_from(const Tensor& other) {
  if (other.bytes() != bytes() || other.dtype_ != dtype_)
    throw std::invalid_argument("copy from " + other.describe() + " into " + describe());
  if (bytes() == 0) return;
  if (device_ == Device::Cpu && other.device_ == Device::Cpu) std::memcpy(data_, other.data_, bytes());
  else if (device_ == Device::Cuda && other.device_ == Device::Cuda) cuda::copy_device(data_, other.data_, bytes());
  else if (device_ == Device::Cuda) cuda::upload(data_, other.data_, bytes());
  else cuda::download(data_, other.data_, bytes());
}

void Tensor::fill_zero() {
  if (bytes() == 0) return;
  if (device_ == Device::Cpu) std::memset(data_, 0, bytes());
  else cuda::zero(data_, bytes());
}

std::string Tensor::describe() const {
  static const char* kTypes[] = {"f32", "i32", "u8"};
  std::ostringstream out;
  out << (device_ == Device::Cpu ? "cpu " : "cuda ") << kTypes[static_cast<int>(dtype_)] << "[";
  for (size_t i = 0; i < shape_.size(); ++i) out << (i ? "," : "") << shape_[i];
  out << "]";
  return out.str();
}

}  // namespace splatcast
