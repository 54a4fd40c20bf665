// Networks of the mlp.h layout over tiles of rows in shared memory, for the CUDA backward kernels (the CPU twins
// use mlp_grad_cpu.h). A block recomputes a tile's activations, then backpropagates through it; every loop below is
// split over the block's threads, and the caller puts __syncthreads() between calls that depend on each other.
//
// Mappings keep shared memory conflict-free: a tile has at most 32 rows and odd row strides, and a warp's threads
// take consecutive rows of one output (forward, input gradient) or consecutive inputs of one output (weight
// gradient). Weights are read from global memory: in the first two loops every thread of a warp reads the same
// weight (one broadcast transaction, L1-resident), so they need no shared copy; the shared memory holds the
// block's weight-gradient partial instead, added to the global gradient once per block.
#pragma once
#include <cuda_runtime.h>

#include "mlp_launch.cuh"

namespace splatcast {

constexpr int kGradThreads = 256;

// Odd row stride of a tile of `width` columns.
__host__ __device__ inline int tile_stride(int width) { return width | 1; }

struct SharedTile {
  float* p;
  int stride;
  __device__ float* row(int r) const { return p + r * stride; }
  __device__ SharedTile columns(int first) const { return {p + first, stride}; }
};

// Offsets of each layer's weights in the raw layout (mlp.h); its bias follows them.
struct NetOffsets {
  int at[kMaxMlpLayers];
  int params;  // MlpLayout::param_count(), in device code
  __host__ __device__ explicit NetOffsets(const MlpLayout& L) {
    int offset = 0;
    for (int l = 0; l < L.layers; ++l) {
      at[l] = offset;
      offset += L.width[l + 1] * (L.width[l] + (L.bias ? 1 : 0));
    }
    params = offset;
  }
};

// The widest layer (input and output included).
__host__ __device__ inline int widest_layer(const MlpLayout& L) {
  int w = 0;
  for (int l = 0; l <= L.layers; ++l) w = L.width[l] > w ? L.width[l] : w;
  return w;
}

// y[r][j] = b[j] + sum_i x[r][i] w[j][i] (ReLU when relu), for r < rows of a tile of tile_rows.
__device__ inline void tile_layer_forward(const float* w, const float* b, int n_in, int n_out, bool relu, int rows,
                                          int tile_rows, SharedTile x, SharedTile y) {
  for (int e = threadIdx.x; e < n_out * tile_rows; e += blockDim.x) {
    const int j = e / tile_rows, r = e - j * tile_rows;
    if (r >= rows) continue;
    const float* wj = w + j * n_in;
    const float* xr = x.row(r);
    float acc = b ? b[j] : 0.f;
    for (int i = 0; i < n_in; ++i) acc += wj[i] * xr[i];
    y.row(r)[j] = relu ? fmaxf(acc, 0.f) : acc;
  }
}

// dx[r][i] = sum_j delta[r][j] w[j][i] (added to dx when accumulate), zeroed where mask[r][i] <= 0 when mask.p
// (the ReLU that produced the layer's input).
__device__ inline void tile_input_grad(const float* w, int n_in, int n_out, int rows, int tile_rows,
                                       SharedTile delta, SharedTile mask, SharedTile dx, bool accumulate) {
  for (int e = threadIdx.x; e < n_in * tile_rows; e += blockDim.x) {
    const int i = e / tile_rows, r = e - i * tile_rows;
    if (r >= rows) continue;
    const float* dr = delta.row(r);
    float acc = 0.f;
    for (int j = 0; j < n_out; ++j) acc += w[j * n_in + i] * dr[j];
    if (mask.p && !(mask.row(r)[i] > 0.f)) acc = 0.f;
    dx.row(r)[i] = accumulate ? dx.row(r)[i] + acc : acc;
  }
}

// gw[j][i] += sum_r delta[r][j] x[r][i]; gb[j] += sum_r delta[r][j] when gb. Each thread owns its entries.
__device__ inline void tile_weight_grad(int n_in, int n_out, int rows, SharedTile delta, SharedTile x, float* gw,
                                        float* gb) {
  for (int e = threadIdx.x; e < n_out * n_in; e += blockDim.x) {
    const int j = e / n_in, i = e - j * n_in;
    float acc = 0.f;
    for (int r = 0; r < rows; ++r) acc += delta.row(r)[j] * x.row(r)[i];
    gw[e] += acc;
  }
  if (gb)
    for (int j = threadIdx.x; j < n_out; j += blockDim.x) {
      float acc = 0.f;
      for (int r = 0; r < rows; ++r) acc += delta.row(r)[j];
      gb[j] += acc;
    }
}

// Activation tiles of one network: act[0] its input (a view the caller fills), act[l] layer l - 1's output.
struct NetTiles {
  SharedTile act[kMaxMlpLayers + 1];
};

// Carves act[1 .. layers] of L from `cursor` (tile_rows rows each) and advances it.
__device__ inline NetTiles carve_net_tiles(const MlpLayout& L, SharedTile input, int tile_rows, float*& cursor) {
  NetTiles t;
  t.act[0] = input;
  for (int l = 1; l <= L.layers; ++l) {
    t.act[l] = {cursor, tile_stride(L.width[l])};
    cursor += tile_rows * tile_stride(L.width[l]);
  }
  return t;
}

// Shared floats carve_net_tiles takes per tile row.
inline int net_tile_floats(const MlpLayout& L) {
  int n = 0;
  for (int l = 1; l <= L.layers; ++l) n += tile_stride(L.width[l]);
  return n;
}

// Forward of layers [0, layers) over the tile; synchronises after each.
__device__ inline void tile_net_forward(const MlpLayout& L, const float* raw, const NetTiles& t, int layers, int rows,
                                        int tile_rows) {
  const NetOffsets off(L);
  for (int l = 0; l < layers; ++l) {
    const int n_in = L.width[l], n_out = L.width[l + 1];
    const float* w = raw + off.at[l];
    tile_layer_forward(w, L.bias ? w + n_out * n_in : nullptr, n_in, n_out, l + 1 < L.layers, rows, tile_rows,
                       t.act[l], t.act[l + 1]);
    __syncthreads();
  }
}

// Backpropagates delta (the gradient at the network output) through the tile: weight gradients into `grad` (shared,
// raw layout) and, when dx.p, the input gradient into dx (added to it when accumulate_dx). spare[0] and spare[1]
// are tiles of the widest layer for the hidden layers' gradients; delta may be one of them, dx may be neither.
// Synchronises after each layer.
__device__ inline void tile_net_backward(const MlpLayout& L, const float* raw, const NetTiles& t, SharedTile delta,
                                         const SharedTile* spare, float* grad, SharedTile dx, bool accumulate_dx,
                                         int rows, int tile_rows) {
  const NetOffsets off(L);
  for (int l = L.layers - 1; l >= 0; --l) {
    const int n_in = L.width[l], n_out = L.width[l + 1];
    const float* w = raw + off.at[l];
    float* gw = grad + off.at[l];
    tile_weight_grad(n_in, n_out, rows, delta, t.act[l], gw, L.bias ? gw + n_out * n_in : nullptr);
    const SharedTile next = l > 0 ? (delta.p == spare[0].p ? spare[1] : spare[0]) : dx;
    if (next.p)
      tile_input_grad(w, n_in, n_out, rows, tile_rows, delta, l > 0 ? t.act[l] : SharedTile{}, next,
                      l == 0 && accumulate_dx);
    __syncthreads();
    delta = next;
  }
}

// Adds a block's shared partial to a global gradient buffer.
__device__ inline void flush_grad(const float* partial, int n, float* global) {
  for (int p = threadIdx.x; p < n; p += blockDim.x) atomicAdd(global + p, partial[p]);
}

__device__ inline void zero_shared(float* p, int n) {
  for (int i = threadIdx.x; i < n; i += blockDim.x) p[i] = 0.f;
}

// Copies rows [row0, row0 + rows) of a [*, width] global array into a tile (coalesced reads), or back out.
__device__ inline void load_tile(const float* global, int width, int32_t row0, int rows, SharedTile tile) {
  const float* src = global + static_cast<size_t>(row0) * width;
  for (int e = threadIdx.x; e < rows * width; e += blockDim.x) {
    const int r = e / width;
    tile.row(r)[e - r * width] = src[e];
  }
}

__device__ inline void store_tile(SharedTile tile, int width, int32_t row0, int rows, float* global) {
  float* dst = global + static_cast<size_t>(row0) * width;
  for (int e = threadIdx.x; e < rows * width; e += blockDim.x) {
    const int r = e / width;
    dst[e] = tile.row(r)[e - r * width];
  }
}

struct GradLaunch {
  int tile_rows;
  size_t shared_bytes;
  int32_t block_rows;  // rows one block covers (a multiple of tile_rows)
  Segments blocks;     // blocks.offset[s] = first block of segment s
};

// Plans a backward launch of kGradThreads threads: the largest tile (32, 16 or 8 rows) whose shared memory,
// `fixed_floats` plus `row_floats` per tile row, fits; then one wave of blocks (as many as the SMs hold at once)
// sharing the tiles, so each block flushes its weight-gradient partial once.
template <typename Kernel>
GradLaunch grad_plan(Kernel kernel, const MlpDevice& device, const Segments& rows, int fixed_floats, int row_floats,
                     const char* op) {
  GradLaunch launch{};
  for (int tile = 32; tile >= 8 && launch.tile_rows == 0; tile /= 2) {
    const size_t bytes = sizeof(float) * (static_cast<size_t>(fixed_floats) + static_cast<size_t>(row_floats) * tile);
    if (bytes <= device.shared_limit) launch = {tile, bytes, 0, {}};
  }
  if (launch.tile_rows == 0)
    throw std::runtime_error(std::string(op) + " needs " +
                             std::to_string(sizeof(float) * (fixed_floats + 8ull * row_floats)) +
                             " bytes of shared memory per block, this GPU allows " +
                             std::to_string(device.shared_limit));
  int resident = 0;
  mlp_cuda_check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, kernel, kGradThreads, launch.shared_bytes),
                 op);
  int64_t tiles = 0;
  for (int s = 0; s < rows.count; ++s) tiles += (rows.rows_of(s) + launch.tile_rows - 1) / launch.tile_rows;
  const int64_t wave = static_cast<int64_t>(resident > 0 ? resident : 1) * device.multiprocessors;
  const int64_t per_block = (tiles + wave - 1) / wave;
  launch.block_rows = launch.tile_rows * static_cast<int32_t>(per_block > 1 ? per_block : 1);
  launch.blocks.count = rows.count;
  for (int s = 0; s < rows.count; ++s)
    launch.blocks.offset[s + 1] = launch.blocks.offset[s] + (rows.rows_of(s) + launch.block_rows - 1) / launch.block_rows;
  return launch;
}

}  // namespace splatcast
