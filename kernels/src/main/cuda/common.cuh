// common.cuh: helpers every kernel family shares.
//
// Reductions broadcast one value to every lane (shfl_down then lane 0), so all threads of a
// row agree bit for bit on a mean or a max: LayerNorm and softmax then normalise every
// column with the same statistic, as the CPU reference does.
// Reductions have a fixed shape (warp tree, then a tree over warps), so a result depends only
// on the input and the launch configuration, never on timing: every kernel here is deterministic.
#pragma once
#include <stdint.h>

#define FULL_MASK 0xffffffffu

typedef long long i64;

// Sum over the 32 lanes of a warp, returned to every lane.
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(FULL_MASK, v, o);
    return __shfl_sync(FULL_MASK, v, 0);
}

// Max over the 32 lanes of a warp, returned to every lane.
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(FULL_MASK, v, o));
    return __shfl_sync(FULL_MASK, v, 0);
}

// Sum over the block, returned to every thread. blockDim.x is a multiple of 32 (at most 1024);
// scratch is 32 floats of shared memory. Every thread of the block must call it.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // a previous call may still be reading scratch
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < (int)(blockDim.x >> 5) ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

// Max over the block, returned to every thread; same rules as block_sum.
__device__ __forceinline__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < (int)(blockDim.x >> 5) ? scratch[lane] : -INFINITY;
    return warp_max(v);
}

// Device data the host cannot check before launch (ids, indices, targets) is checked here: a
// kernel that meets a value out of range skips it and ORs its call-site code into the backend's
// error word, which the host reads at the next synchronize and turns into a named exception.
__device__ __forceinline__ void report_error(unsigned int* errors, unsigned int code) {
    atomicOr(errors, code);
}
