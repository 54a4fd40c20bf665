// CUDA runtime glue. Linked against the static runtime, so the addon loads on machines with no driver at all;
// `available` then says why the GPU cannot be used.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda_runtime.h"

namespace splatcast::cuda {

namespace {
void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  if (err == cudaErrorMemoryAllocation)
    throw std::runtime_error(std::string("out of GPU memory during ") + what +
                             ": close sessions or lower the batch size");
  throw std::runtime_error(std::string("CUDA error during ") + what + ": " + cudaGetErrorString(err));
}
}  // namespace

bool compiled_in() { return true; }

bool available(std::string* why) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    if (why) *why = std::string("no usable CUDA driver or GPU: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later probes report afresh
    return false;
  }
  if (count == 0) {
    if (why) *why = "no CUDA GPU found";
    return false;
  }
  return true;
}

std::string device_name() {
  cudaDeviceProp prop{};
  int dev = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  check(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
  return prop.name;
}

void memory_info(size_t* free_bytes, size_t* total_bytes) { check(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo"); }

void* malloc_device(size_t bytes) {
  void* ptr = nullptr;
  check(cudaMalloc(&ptr, bytes), "cudaMalloc");
  return ptr;
}
void free_device(void* ptr) { cudaFree(ptr); }
void upload(void* dst, const void* src, size_t bytes) { check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "upload"); }
void download(void* dst, const void* src, size_t bytes) { check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "download"); }
void copy_device(void* dst, const void* src, size_t bytes) {
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice), "device copy");
}
void zero(void* dst, size_t bytes) { check(cudaMemsetAsync(dst, 0, bytes), "memset"); }
void synchronize() { check(cudaDeviceSynchronize(), "synchronize"); }
void check_launch(const char* op) { check(cudaGetLastError(), op); }

void* upload_args(const void* src, size_t bytes) {
  void* ptr = nullptr;
  check(cudaMallocAsync(&ptr, bytes, 0), "kernel argument allocation");
  // From pageable memory the copy is staged before it returns, so `src` may go out of scope at once.
  check(cudaMemcpyAsync(ptr, src, bytes, cudaMemcpyHostToDevice, 0), "kernel argument upload");
  return ptr;
}
void release_args(void* ptr) {
  if (ptr) cudaFreeAsync(ptr, 0);
}

}  // namespace splatcast::cuda
