#include "../core/cuda_runtime.h"
#include "hook_features_math.h"

namespace splatcast {

namespace {
constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kBatch = 8;           // rows in flight per thread: the scan is latency-bound
constexpr int kSerialInserts = 4;   // more candidates at once than this are sorted and merged instead
constexpr unsigned kAll = 0xffffffffu;
static_assert(kMaxHookTopK <= 32, "a warp list holds one value per lane");

// Lists below are one value per lane of a warp, 32 long, descending in lane order.

// Sorts a bitonic sequence into descending lane order.
__device__ float warp_sort_bitonic(float x, int lane) {
#pragma unroll
  for (int stride = 16; stride > 0; stride >>= 1) {
    const float other = __shfl_xor_sync(kAll, x, stride);
    x = (lane & stride) == 0 ? fmaxf(x, other) : fminf(x, other);
  }
  return x;
}

// Sorts arbitrary values into descending lane order (bitonic sort).
__device__ float warp_sort(float x, int lane) {
#pragma unroll
  for (int size = 2; size < 32; size <<= 1) {
#pragma unroll
    for (int stride = size / 2; stride > 0; stride >>= 1) {
      const float other = __shfl_xor_sync(kAll, x, stride);
      // Blocks of `size` lanes alternate direction so that each pair of them forms a bitonic run.
      const bool keep_max = ((lane & stride) == 0) == ((lane & size) == 0);
      x = keep_max ? fmaxf(x, other) : fminf(x, other);
    }
  }
  return warp_sort_bitonic(x, lane);
}

// The 32 largest of two descending lists, descending; `b_reversed` is lane 31 - lane's entry of the second list.
// The lane-wise max of a descending and an ascending list is a bitonic sequence holding the 32 largest of both.
__device__ float warp_merge(float a, float b_reversed, int lane) {
  return warp_sort_bitonic(fmaxf(a, b_reversed), lane);
}

// A warp's k largest values so far. Lanes from k on hold values pushed out of the top k, or -inf: real values no
// larger than the k-th, so merging such lists still yields the exact top k.
struct WarpTopK {
  int k;
  float v = -INFINITY;
  float threshold = -INFINITY;  // the k-th largest, the same in every lane

  // Adds the lanes' x that beat the threshold. In a shuffled row order almost no row does after the first few
  // batches, so the scan costs a ballot per row; a few candidates are inserted one by one, many (rows in ascending
  // order) are sorted and merged in one step.
  __device__ void offer(float x, bool valid, int lane) {
    unsigned pending = __ballot_sync(kAll, valid && x > threshold);
    if (__popc(pending) > kSerialInserts) {
      const float sorted = warp_sort((pending >> lane) & 1u ? x : -INFINITY, lane);
      v = warp_merge(v, __shfl_sync(kAll, sorted, 31 - lane), lane);
      threshold = __shfl_sync(kAll, v, k - 1);
      return;
    }
    while (pending) {
      const int src = __ffs(pending) - 1;
      const float y = __shfl_sync(kAll, x, src);
      const int at = __popc(__ballot_sync(kAll, lane < k && v >= y));  // < k since y > threshold
      const float shifted = __shfl_up_sync(kAll, v, 1);
      if (lane >= at) v = lane == at ? y : shifted;
      threshold = __shfl_sync(kAll, v, k - 1);
      pending &= ~(1u << src);
      pending &= __ballot_sync(kAll, x > threshold);
    }
  }
};

// The exact top lists of one segment, computed by the whole block (kThreads): each warp keeps the top lists of a
// strided slice of the rows, then a fixed tree of pairwise warp merges in shared memory reduces them. On return
// (after a barrier) highest[0][0 .. k) holds the segment's k largest values of displacement[:, 1], descending, and
// lowest[0][0 .. k) the k largest negated values. Every list holds exact top values, so the result does not depend
// on scheduling.
__device__ inline void segment_top_lists(const HookFeaturesArgs& a, int s, float (&highest)[kWarps][32],
                                         float (&lowest)[kWarps][32]) {
  const int t = threadIdx.x, lane = t % 32, warp = t / 32;
  WarpTopK high{a.top_k}, low{a.top_k};
  // The loop runs per warp (first is warp-uniform), so every lane reaches the ballots.
  const int64_t end = a.seg.offset[s + 1];
  for (int64_t first = a.seg.offset[s] + warp * 32; first < end; first += kThreads * kBatch) {
    float y[kBatch];
#pragma unroll
    for (int j = 0; j < kBatch; ++j) {
      int64_t row = first + lane + j * kThreads;
      y[j] = row < end ? a.displacement[row * 3 + 1] : 0.f;
    }
#pragma unroll
    for (int j = 0; j < kBatch; ++j) {
      bool valid = first + lane + j * kThreads < end;
      high.offer(y[j], valid, lane);
      low.offer(-y[j], valid, lane);
    }
  }
  highest[warp][lane] = high.v;
  lowest[warp][lane] = low.v;
  __syncthreads();
  for (int half = kWarps / 2; half > 0; half >>= 1) {
    // Warp w merges lists w and w + half into list w; each lane writes only the entry it read itself.
    if (warp < half) {
      highest[warp][lane] = warp_merge(highest[warp][lane], highest[warp + half][31 - lane], lane);
      lowest[warp][lane] = warp_merge(lowest[warp][lane], lowest[warp + half][31 - lane], lane);
    }
    __syncthreads();
  }
}

// One block per segment.
__global__ void __launch_bounds__(kThreads) hook_features_kernel(const __grid_constant__ HookFeaturesArgs a) {
  __shared__ float highest[kWarps][32];
  __shared__ float lowest[kWarps][32];
  const int s = blockIdx.x;
  segment_top_lists(a, s, highest, lowest);
  if (threadIdx.x == 0)
    hook_cues(highest[0], lowest[0], min(a.top_k, a.seg.rows_of(s)), a.out + static_cast<size_t>(s) * 3);
}

// How many threads before this one in the block have `flag` set; *total gets the block's count. Every thread of
// the block must call it.
__device__ inline int block_count_before(bool flag, int (&warp_counts)[kWarps], int* total) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const unsigned ballot = __ballot_sync(kAll, flag);
  if (lane == 0) warp_counts[warp] = __popc(ballot);
  __syncthreads();
  int before = __popc(ballot & ((1u << lane) - 1u)), sum = 0;
  for (int w = 0; w < kWarps; ++w) {
    before += w < warp ? warp_counts[w] : 0;
    sum += warp_counts[w];
  }
  *total = sum;
  __syncthreads();  // the counts are rewritten by the next call
  return before;
}

// One block per segment: the segment's top lists give the n-th largest value (and the n-th smallest); rows beyond
// it are selected, and rows equal to it in row order until n are, as hook_select (hook_features_math.h) says.
__global__ void __launch_bounds__(kThreads)
    hook_features_backward_kernel(const __grid_constant__ HookFeaturesBackwardArgs a) {
  __shared__ float highest[kWarps][32];
  __shared__ float lowest[kWarps][32];
  __shared__ int warp_counts[kWarps];
  const int s = blockIdx.x;
  const int n = min(a.top_k, a.seg.rows_of(s));
  if (n == 0) return;
  const HookFeaturesArgs lists{a.seg, a.top_k, a.displacement, nullptr};
  segment_top_lists(lists, s, highest, lowest);
  const HookThreshold high = hook_threshold(highest[0], n), low = hook_threshold(lowest[0], n);
  const HookRowGrads g = hook_row_grads(a.grad_out + static_cast<size_t>(s) * 3, n);
  int high_taken = 0, low_taken = 0;  // tied rows selected so far, in row order
  for (int64_t first = a.seg.offset[s]; first < a.seg.offset[s + 1]; first += kThreads) {
    const int64_t row = first + threadIdx.x;
    const bool valid = row < a.seg.offset[s + 1];
    const float y = valid ? a.displacement[row * 3 + 1] : 0.f;
    int high_ties, low_ties;
    const int high_before = high_taken + block_count_before(valid && y == high.value, warp_counts, &high_ties);
    const int low_before = low_taken + block_count_before(valid && -y == low.value, warp_counts, &low_ties);
    if (valid) {
      float* out = a.grad_displacement + row * 3;
      out[0] = out[2] = 0.f;
      out[1] = (hook_select(high, y, high_before) ? g.high : 0.f) + (hook_select(low, -y, low_before) ? g.low : 0.f);
    }
    high_taken += high_ties;
    low_taken += low_ties;
  }
}
}  // namespace

void hook_features_backward_cuda(const HookFeaturesBackwardArgs& a) {
  if (a.seg.rows() == 0) return;
  hook_features_backward_kernel<<<a.seg.count, kThreads>>>(a);
  cuda::check_launch("hook_features_backward");
}

void hook_features_cuda(const HookFeaturesArgs& a) {
  if (a.seg.count == 0) return;
  hook_features_kernel<<<a.seg.count, kThreads>>>(a);
  cuda::check_launch("hook_features");
}

}  // namespace splatcast
