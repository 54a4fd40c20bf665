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

}  // namespace splatcast::cuda
