// CPU emulation of the bits of the CUDA runtime / device language the motion-field backward kernels use.
// One OS thread per CUDA thread, one std::barrier per block, blocks run one after another (EMU_CONCURRENT_BLOCKS
// lets several run at once, which exercises the atomics). Force-included (-include) into the kernel TU.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#define __device__
#define __global__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __grid_constant__
#define __restrict__

struct alignas(16) float4 {
  float x, y, z, w;
};
static_assert(sizeof(float4) == 16, "float4");

struct uint3 {
  unsigned int x = 0, y = 0, z = 0;
};
using dim3 = uint3;

inline thread_local uint3 threadIdx, blockIdx, blockDim, gridDim;
inline thread_local std::barrier<>* emu_block_barrier = nullptr;
inline thread_local void* emu_shared_base = nullptr;  // the block's dynamic shared buffer
inline thread_local size_t emu_shared_size = 0;

// EMU_SCHEDULE=<seed>: instead of free-running threads and std::barrier, the block's threads run ONE AT A TIME,
// in a permutation per barrier interval (seed 1: ascending, 2: descending, else random per interval). A kernel free
// of intra-block races gives bit-identical results under every schedule; a missing __syncthreads does not.
#include <random>
#include <semaphore>
struct EmuSerialBlock {
  std::vector<std::binary_semaphore*> go;
  std::vector<int> order, next_order;
  size_t pos = 0;
  std::mutex m;
  std::mt19937 rng;
  unsigned seed;
  EmuSerialBlock(unsigned n, unsigned mode, unsigned s) : rng(s), seed(mode) {
    for (unsigned t = 0; t < n; ++t) go.push_back(new std::binary_semaphore(0)), order.push_back(int(t));
    shuffle(order);
  }
  ~EmuSerialBlock() {
    for (auto* g : go) delete g;
  }
  void shuffle(std::vector<int>& v) {
    std::sort(v.begin(), v.end());
    if (seed == 2) std::reverse(v.begin(), v.end());
    else if (seed > 2) std::shuffle(v.begin(), v.end(), rng);
  }
  void start() { go[order[0]]->release(); }
  // The running thread `me` stops (at a barrier when `again`, else for good) and hands over.
  void hand_over(int me, bool again) {
    int next = -1;
    {
      std::lock_guard<std::mutex> lock(m);
      if (again) next_order.push_back(me);
      if (++pos == order.size()) {
        order.swap(next_order);
        next_order.clear();
        shuffle(order);
        pos = 0;
      }
      if (!order.empty()) next = order[pos];
    }
    if (next >= 0) go[next]->release();
  }
  void wait(int me) { go[me]->acquire(); }
};
inline thread_local EmuSerialBlock* emu_serial = nullptr;

inline void __syncthreads() {
  if (emu_serial) {
    emu_serial->hand_over(int(threadIdx.x), true);
    emu_serial->wait(int(threadIdx.x));
  } else {
    emu_block_barrier->arrive_and_wait();
  }
}

inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }

// ---- runtime API stubs ------------------------------------------------------------------------------------------
enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorLaunchFailure = 719 };
enum cudaDeviceAttr { cudaDevAttrMaxSharedMemoryPerBlockOptin = 97, cudaDevAttrMultiProcessorCount = 16 };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };

// H200 (sm_90): 232448 B opt-in per block, 233472 B per SM, 1 KB reserved per block, 132 SMs, 2048 threads/SM.
constexpr int kEmuSharedOptin = 232448, kEmuSharedPerSm = 233472, kEmuReservedPerBlock = 1024, kEmuSms = 132;
constexpr int kEmuThreadsPerSm = 2048, kEmuBlocksPerSm = 32;

inline std::map<const void*, int>& emu_func_max_dynamic() {
  static std::map<const void*, int> m;
  return m;
}
inline const char* cudaGetErrorString(cudaError_t e) {
  return e == cudaSuccess ? "no error" : e == cudaErrorInvalidValue ? "invalid argument" : "unspecified launch failure";
}
inline cudaError_t cudaGetDevice(int* d) {
  *d = 0;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) {
  *v = a == cudaDevAttrMaxSharedMemoryPerBlockOptin ? kEmuSharedOptin : kEmuSms;
  return cudaSuccess;
}
template <typename K>
cudaError_t cudaFuncSetAttribute(K kernel, cudaFuncAttribute, int bytes) {
  if (bytes > kEmuSharedOptin) return cudaErrorInvalidValue;
  emu_func_max_dynamic()[reinterpret_cast<const void*>(kernel)] = bytes;
  return cudaSuccess;
}
template <typename K>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, K, int threads, size_t shared) {
  int by_smem = static_cast<int>(kEmuSharedPerSm / (shared + kEmuReservedPerBlock));
  int by_threads = kEmuThreadsPerSm / threads;
  int r = by_smem < by_threads ? by_smem : by_threads;
  *n = r < kEmuBlocksPerSm ? r : kEmuBlocksPerSm;
  if (const char* f = std::getenv("EMU_RESIDENT")) *n = std::atoi(f);
  return cudaSuccess;
}

// ---- launches ----------------------------------------------------------------------------------------------------
struct EmuLaunchRecord {
  std::string kernel;
  unsigned grid = 0, block = 0;
  size_t shared = 0, param_bytes = 0;
};
inline std::vector<EmuLaunchRecord>& emu_launches() {
  static std::vector<EmuLaunchRecord> v;
  return v;
}
inline bool emu_launch_failed = false;

template <typename... P, typename... A>
void emu_launch_impl(const char* name, void (*kernel)(P...), unsigned grid, unsigned block, size_t shared,
                     A&&... args) {
  // The kernel's parameters exactly as declared (by value), converted once, like a real launch.
  std::tuple<std::decay_t<P>...> params(std::forward<A>(args)...);
  size_t param_bytes = 0;
  ((param_bytes = (param_bytes + alignof(std::decay_t<P>) - 1) / alignof(std::decay_t<P>) * alignof(std::decay_t<P>) +
                  sizeof(std::decay_t<P>)),
   ...);
  emu_launches().push_back({name, grid, block, shared, param_bytes});
  auto it = emu_func_max_dynamic().find(reinterpret_cast<const void*>(kernel));
  const size_t limit = it == emu_func_max_dynamic().end() ? 48 * 1024 : it->second;
  if (block == 0 || block > 1024 || grid == 0 || shared > limit || param_bytes > 32764) {
    std::fprintf(stderr, "[emu] launch of %s refused: grid %u block %u shared %zu (limit %zu) params %zu\n", name,
                 grid, block, shared, limit, param_bytes);
    emu_launch_failed = true;
    return;
  }
  const char* cb = std::getenv("EMU_CONCURRENT_BLOCKS");
  const unsigned concurrent = cb ? static_cast<unsigned>(std::atoi(cb)) : 1u;
  for (unsigned b0 = 0; b0 < grid; b0 += concurrent) {
    const unsigned nb = grid - b0 < concurrent ? grid - b0 : concurrent;
    std::vector<void*> smem(nb);
    std::vector<std::barrier<>*> bars(nb);
    std::vector<EmuSerialBlock*> serial(nb, nullptr);
    const char* sched = std::getenv("EMU_SCHEDULE");
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(nb) * block);
    for (unsigned k = 0; k < nb; ++k) {
      // EXACTLY the planned bytes, on the heap: AddressSanitizer sees any access past them. Poisoned with NaNs so
      // a read of shared memory nobody wrote shows up in the results.
      smem[k] = std::malloc(shared ? shared : 1);
      std::memset(smem[k], 0xff, shared);
      bars[k] = new std::barrier<>(static_cast<std::ptrdiff_t>(block));
      if (sched) serial[k] = new EmuSerialBlock(block, static_cast<unsigned>(std::atoi(sched)),
                                                  static_cast<unsigned>(std::atoi(sched)) * 7919u + b0 + k);
    }
    for (unsigned k = 0; k < nb; ++k)
      for (unsigned t = 0; t < block; ++t)
        threads.emplace_back([&, k, t] {
          threadIdx = {t, 0, 0};
          blockIdx = {b0 + k, 0, 0};
          blockDim = {block, 1, 1};
          gridDim = {grid, 1, 1};
          emu_block_barrier = bars[k];
          emu_shared_base = smem[k];
          emu_shared_size = shared;
          emu_serial = serial[k];
          if (emu_serial) emu_serial->wait(int(t));
          std::apply([&](const auto&... p) { kernel(p...); }, params);  // each thread gets its own by-value copy
          if (emu_serial) emu_serial->hand_over(int(t), false);
          else emu_block_barrier->arrive_and_drop();  // an exited thread no longer takes part in __syncthreads
        });
    for (unsigned k = 0; k < nb; ++k)
      if (serial[k]) serial[k]->start();
    for (auto& th : threads) th.join();
    for (unsigned k = 0; k < nb; ++k) {
      std::free(smem[k]);
      delete bars[k];
      delete serial[k];
    }
  }
}
#define emu_launch(kernel, grid, block, shared, ...) emu_launch_impl(#kernel, kernel, grid, block, shared, __VA_ARGS__)
