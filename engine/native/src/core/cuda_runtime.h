// What the host side needs from CUDA, as plain functions. Implemented by cuda_runtime.cu when the addon is built
// with CUDA, and by cuda_absent.cpp otherwise (every call then explains how to get a CUDA build).
#pragma once
#include <cstddef>
#include <string>

namespace splatcast::cuda {

bool compiled_in();
// True when a usable GPU and driver are present; otherwise `why` says what is missing.
bool available(std::string* why);
std::string device_name();
void memory_info(size_t* free_bytes, size_t* total_bytes);

void* malloc_device(size_t bytes);
void free_device(void* ptr);
void upload(void* dst, const void* src, size_t bytes);
void download(void* dst, const void* src, size_t bytes);
void copy_device(void* dst, const void* src, size_t bytes);
void zero(void* dst, size_t bytes);
void synchronize();
// Throws with the op's name if the last launch failed.
void check_launch(const char* op);

// Stream-ordered scratch for one launch's argument block (see DeviceArgs): no synchronisation.
void* upload_args(const void* src, size_t bytes);
void release_args(void* ptr);

// A kernel's arguments in device memory for one launch, for blocks too large to pass by value: the fused
// motion-field backwards take 7-9.5 KB (per-segment weight tables), which faulted on the H200 as parameters, and
// drivers before r530 refuse anything over 4 KB. Filled before the launch, freed after it, in stream order.
template <typename T>
class DeviceArgs {
 public:
  explicit DeviceArgs(const T& host) : device_(static_cast<const T*>(upload_args(&host, sizeof(T)))) {}
  ~DeviceArgs() { release_args(const_cast<T*>(device_)); }
  DeviceArgs(const DeviceArgs&) = delete;
  DeviceArgs& operator=(const DeviceArgs&) = delete;
  const T* get() const { return device_; }

 private:
  const T* device_;
};

}  // namespace splatcast::cuda
