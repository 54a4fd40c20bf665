// SIMD helpers of the CPU twins' hot loops (CPU only). The build stays free of -march flags; code for wider
// instruction sets is compiled beside the portable baseline and chosen at run time, for the CPU the addon runs on.
//
// SC_CPU_CLONES compiles a function for AVX-512, AVX2 (with FMA) and the baseline; GCC's ifunc dispatch picks one
// when the addon loads. It suits plain loops, which the compiler vectorises at each clone's width. Code written
// with GCC vector types instead uses the type of each instruction set's native width (F32x16, F32x8, F32x4) in a
// function compiled for it (SC_TARGET_AVX512, SC_TARGET_AVX2) and dispatches on vector_isa(): a vector type wider
// than the target's registers is split through memory, which is slower than scalar code.
// Elsewhere (Clang, other architectures) only the baseline is built.
#pragma once
#include <cstdint>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SC_CPU_DISPATCH 1
#define SC_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define SC_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#define SC_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
#else
#define SC_CPU_DISPATCH 0
#define SC_CPU_CLONES
#endif
// Inlined into (and so compiled for) the dispatched function that calls it.
#define SC_VECTOR_INLINE inline __attribute__((always_inline))

namespace splatcast {

typedef float F32x16 __attribute__((vector_size(64)));  // AVX-512
typedef float F32x8 __attribute__((vector_size(32)));   // AVX2
typedef float F32x4 __attribute__((vector_size(16)));   // baseline (SSE2, NEON)

enum class VectorIsa { Baseline, Avx2, Avx512 };

// The widest instruction set of this CPU that the dispatched functions have code for (detected once).
inline VectorIsa vector_isa() {
#if SC_CPU_DISPATCH
  static const VectorIsa isa = __builtin_cpu_supports("x86-64-v4")   ? VectorIsa::Avx512
                               : __builtin_cpu_supports("x86-64-v3") ? VectorIsa::Avx2
                                                                     : VectorIsa::Baseline;
  return isa;
#else
  return VectorIsa::Baseline;
#endif
}

}  // namespace splatcast
