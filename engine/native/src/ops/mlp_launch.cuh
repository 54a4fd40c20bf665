// Launch plumbing shared by the thread-per-row MLP kernels (mlp.cu, motion_field.cu). A block covers a run of rows
// of ONE segment, so it stages that segment's weights into shared memory once and then walks its rows blockDim at a
// time; each thread's activation vectors are shared-memory columns (see RowVector). The block -> segment map
// travels by value.
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "mlp_math.h"

namespace splatcast {

inline void mlp_cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

constexpr int kMlpMaxThreads = 256;  // the kernels' __launch_bounds__

struct MlpDevice {
  size_t shared_limit;  // bytes of shared memory a block may use
  int multiprocessors;
};

// Lets `kernel` use all the shared memory a block may have on this device. Call once per kernel (a static in its
// launcher): these are host-side settings and queries, not per-launch costs.
template <typename Kernel>
MlpDevice mlp_prepare(Kernel kernel) {
  int device = 0, bytes = 0, sms = 0;
  mlp_cuda_check(cudaGetDevice(&device), "cudaGetDevice");
  mlp_cuda_check(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
                 "shared memory limit query");
  mlp_cuda_check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "multiprocessor query");
  mlp_cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes),
                 "shared memory opt-in");
  return {static_cast<size_t>(bytes), sms};
}

struct MlpLaunch {
  int threads;
  size_t shared_bytes;
  int32_t block_rows;  // rows one block covers (a multiple of threads)
  Segments blocks;     // blocks.offset[s] = first block of segment s
};

// Plans a launch: the most threads per block (a multiple of 32 up to kMlpMaxThreads) whose shared memory fits,
// `fixed_floats` per block (staged weights) plus `row_floats` per thread (activation columns): shared memory, not
// registers, caps the warps an SM holds, so one large block beats several small ones that each stage the weights.
// Then as many rows per block as keep about four waves of blocks, so weights are staged fewer times while the last
// wave's imbalance stays small.
template <typename Kernel>
MlpLaunch mlp_plan(Kernel kernel, const MlpDevice& device, const Segments& rows, int fixed_floats, int row_floats,
                   const char* op) {
  MlpLaunch launch{};
  for (int threads = kMlpMaxThreads; threads >= 32 && launch.threads == 0; threads -= 32) {
    size_t bytes = sizeof(float) * (static_cast<size_t>(fixed_floats) + static_cast<size_t>(row_floats) * threads);
    if (bytes <= device.shared_limit) launch = {threads, bytes, 0, {}};
  }
  if (launch.threads == 0)
    throw std::runtime_error(std::string(op) + " needs " +
                             std::to_string(sizeof(float) * (fixed_floats + 32ull * row_floats)) +
                             " bytes of shared memory per block, this GPU allows " +
                             std::to_string(device.shared_limit));
  int resident = 0;
  mlp_cuda_check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, kernel, launch.threads, launch.shared_bytes),
                 op);
  int64_t chunks = 0;
  for (int s = 0; s < rows.count; ++s) chunks += (rows.rows_of(s) + launch.threads - 1) / launch.threads;
  const int64_t per_block = chunks / (4LL * (resident > 0 ? resident : 1) * device.multiprocessors);
  launch.block_rows = launch.threads * static_cast<int32_t>(per_block > 1 ? per_block : 1);
  launch.blocks.count = rows.count;
  for (int s = 0; s < rows.count; ++s) {
    const int32_t blocks = (rows.rows_of(s) + launch.block_rows - 1) / launch.block_rows;
    launch.blocks.offset[s + 1] = launch.blocks.offset[s] + blocks;
  }
  return launch;
}

// The rows [begin, end) of one block, all of segment `segment`.
struct MlpBlockRows {
  int segment;
  int32_t begin, end;
};

__device__ inline MlpBlockRows mlp_block_rows(const Segments& rows, const Segments& blocks, int32_t block_rows) {
  const int s = blocks.segment_of(static_cast<int32_t>(blockIdx.x));
  const int32_t begin = rows.offset[s] + (static_cast<int32_t>(blockIdx.x) - blocks.offset[s]) * block_rows;
  const int32_t end = begin + block_rows < rows.offset[s + 1] ? begin + block_rows : rows.offset[s + 1];
  return {s, begin, end};
}

// Copies one network's staged weights into shared memory at `cursor` and advances it.
__device__ inline const float* mlp_stage_block(const MlpLayout& L, const float* raw, float*& cursor) {
  float* staged = cursor;
  mlp_stage(L, raw, staged, threadIdx.x, blockDim.x);
  cursor += L.staged_count();
  return staged;
}

}  // namespace splatcast
