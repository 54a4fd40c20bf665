// The CUDA half of the runtime for builds made without nvcc: the addon still loads and runs on the CPU.
#include <stdexcept>

#include "cuda_runtime.h"

namespace splatcast::cuda {

namespace {
[[noreturn]] void refuse() {
  throw std::runtime_error(
      "this build of the Splatcast engine has no CUDA backend; rebuild on a machine with nvcc "
      "(SPLATCAST_CUDA=on npm rebuild --workspace engine)");
}
}  // namespace

bool compiled_in() { return false; }
bool available(std::string* why) {
  if (why) *why = "the engine was built without CUDA (nvcc was not found or SPLATCAST_CUDA=off)";
  return false;
}
std::string device_name() { refuse(); }
void memory_info(size_t*, size_t*) { refuse(); }
void* malloc_device(size_t) { refuse(); }
void free_device(void*) {}
void upload(void*, const void*, size_t) { refuse(); }
void download(void*, const void*, size_t) { refuse(); }
void copy_device(void*, const void*, size_t) { refuse(); }
void zero(void*, size_t) { refuse(); }
void synchronize() {}
void check_launch(const char*) {}
void* upload_args(const void*, size_t) { refuse(); }
void release_args(void*) {}

}  // namespace splatcast::cuda
