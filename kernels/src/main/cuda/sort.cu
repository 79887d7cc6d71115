// sort.cu: ascending bitonic sort of 64-bit keys, in place.
//
// CPU reference: java.util.Arrays.sort on the same keys (the embedding backward's ordering
// step); used by embedding.cu to group rows by id without float atomics.
// Shapes: keys [P], P a power of two >= 2048 (pad with ~0, which sorts last).
// Why bitonic: it is a fixed compare-exchange network, so the result (and the work) depends on
// nothing but P; for the keys this project sorts (ids x rows, P <= 2^17) it is 21 launches of
// a few hundred KB each. The host runs sort_forward_local once, then for k = 4096 .. P: one
// sort_forward_global per stride j = k/2 .. 2048 and one sort_forward_merge(k) for the strides
// below 2048, which stay in shared memory. Overwrites keys (=).
#include "common.cuh"

#define SORT_CHUNK 2048  // keys per block in shared memory; blockDim.x is SORT_CHUNK / 2

__device__ __forceinline__ void compare_exchange(unsigned long long* s, int i, int l, bool ascending) {
    const unsigned long long a = s[i], b = s[l];
    if ((a > b) == ascending) {
        s[i] = b;
        s[l] = a;
    }
}

// Strides j < SORT_CHUNK of stage k, inside one shared-memory chunk. The direction depends on
// the global index, so chunks of the same k-block sort the same way.
__device__ __forceinline__ void merge_in_shared(unsigned long long* s, i64 base, int k, int jStart) {
    const int t = threadIdx.x;
    for (int j = jStart; j > 0; j >>= 1) {
        __syncthreads();
        const int i = (t / j) * 2 * j + (t % j);
        compare_exchange(s, i, i + j, ((base + i) & k) == 0);
    }
    __syncthreads();
}

// Sorts each chunk of SORT_CHUNK keys, ascending or descending as the k = SORT_CHUNK stage needs.
extern "C" __global__ void sort_forward_local(unsigned long long* keys) {
    __shared__ unsigned long long s[SORT_CHUNK];
    const i64 base = (i64)blockIdx.x * SORT_CHUNK;
    const int t = threadIdx.x;
    s[t] = keys[base + t];
    s[t + SORT_CHUNK / 2] = keys[base + t + SORT_CHUNK / 2];
    for (int k = 2; k <= SORT_CHUNK; k <<= 1) merge_in_shared(s, base, k, k >> 1);
    keys[base + t] = s[t];
    keys[base + t + SORT_CHUNK / 2] = s[t + SORT_CHUNK / 2];
}

// One stride j >= SORT_CHUNK of stage k across global memory; one thread per pair.
extern "C" __global__ void sort_forward_global(unsigned long long* keys, i64 P, int k, int j) {
    const i64 t = blockIdx.x * (i64)blockDim.x + threadIdx.x;
    if (t >= P / 2) return;
    const i64 i = (t / j) * 2 * j + (t % j);
    const i64 l = i + j;
    const unsigned long long a = keys[i], b = keys[l];
    if ((a > b) == ((i & k) == 0)) {
        keys[i] = b;
        keys[l] = a;
    }
}

// The strides j = SORT_CHUNK/2 .. 1 of stage k, one chunk per block.
extern "C" __global__ void sort_forward_merge(unsigned long long* keys, int k) {
    __shared__ unsigned long long s[SORT_CHUNK];
    const i64 base = (i64)blockIdx.x * SORT_CHUNK;
    const int t = threadIdx.x;
    s[t] = keys[base + t];
    s[t + SORT_CHUNK / 2] = keys[base + t + SORT_CHUNK / 2];
    merge_in_shared(s, base, k, SORT_CHUNK / 2);
    keys[base + t] = s[t];
    keys[base + t + SORT_CHUNK / 2] = s[t + SORT_CHUNK / 2];
}
