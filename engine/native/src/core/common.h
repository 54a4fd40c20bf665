// Shared definitions for host (C++) and device (CUDA) translation units: plain types only.
#pragma once
#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define SC_HD __host__ __device__
#else
#define SC_HD
#endif

namespace splatcast {

enum class Device : int32_t { Cpu = 0, Cuda = 1 };
enum class DType : int32_t { F32 = 0, I32 = 1, U8 = 2 };

inline size_t dtype_size(DType t) { return t == DType::U8 ? 1 : 4; }

}  // namespace splatcast
