// A typed buffer on one device. Ops never allocate per frame: callers keep tensors as workspaces.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "common.h"

namespace splatcast {

class Tensor {
 public:
  Tensor(Device device, DType dtype, std::vector<int64_t> shape);
  ~Tensor();
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  Device device() const { return device_; }
  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t numel() const { return numel_; }
  size_t bytes() const { return numel_ * dtype_size(dtype_); }
  template <typename T>
  T* ptr() const { return static_cast<T*>(data_); }

  void copy_from_host(const void* src, size_t bytes);
  void copy_to_host(void* dst, size_t bytes) const;
  void copy_from(const Tensor& other);
  void fill_zero();
  std::string describe() const;  // "cuda f32[40000,3]", for error messages

 private:
  Device device_;
  DType dtype_;
  std::vector<int64_t> shape_;
  int64_t numel_ = 0;
  void* data_ = nullptr;
};

}  // namespace splatcast
