// wgmma_smoke.cu: test kernels of the emulated wgmma (test/wgmma_smoke.cpp runs them; build.sh
// --test translates this file with translate.py --kernel). Not a kernel family: nothing in Java
// loads it, and it has no committed PTX. It is plain CUDA for sm_90a (nvcc -arch=sm_90a accepts it).
//
// wgmma_pipeline: D (128 x N f32, two warpgroups of 64 rows each) += A (128 x K) B (K x N), bf16,
// through K-tiles of 64 copied by cp.async into 128-byte-swizzled shared tiles (wgmma.cuh's
// layouts), two stages, 4 chained k16 steps per tile, one wgmma-group per tile, wait_group 1.
// `mode` breaks one rule of the ISA at a time (the negative tests): see Mode.
//
// wgmma_layout: one k16 step from shared images the host laid out (any swizzle mode, either
// major-ness) through descriptors the host built, so the host's reading of the canonical layouts
// checks the emulator's.
#include "mma.cuh"
#include "wgmma.cuh"

enum Mode {
    GOOD = 0,
    NO_PROXY_FENCE,        // cp.async data read by wgmma with no fence.proxy.async
    FENCE_AFTER_BARRIER,   // fence.proxy.async after the __syncthreads instead of before
    OVERWRITE_IN_FLIGHT,   // one stage: the next tile lands while the previous tile's ops run
    WRITE_ACC_IN_FLIGHT,   // an accumulator written between mma_async and its wait
    READ_ACC_IN_FLIGHT,    // an accumulator read between mma_async and its wait (reads NaN)
    NO_WGMMA_FENCE,        // mma_async with no wgmma.fence before it
    WRITE_AFTER_WAIT,      // accumulators changed after a wait, next mma_async with no wgmma.fence
    NO_FINAL_WAIT,         // the thread exits with ops in flight
    DIVERGENT_DESC,        // one warp passes another B descriptor
    BASE_OFFSET,           // a descriptor with a non-zero matrix base offset
    OUTSIDE_SHARED,        // a descriptor whose start lies beyond the block's shared memory
};

// The dynamic shared memory, 1024-aligned so the 128-byte swizzle patterns start on their boundary.
__device__ __forceinline__ unsigned char* dynamic_smem() {
    extern __shared__ __align__(1024) unsigned char smem[];
    return smem;
}

template <int N, int TA, int TB>
__device__ __forceinline__ void mma_step(float (&d)[N / 2], uint64_t a, uint64_t b, int accumulate) {
    if constexpr (N == 128) wgmma_m64n128k16<TA, TB>(d, a, b, accumulate);
    else wgmma_m64n256k16<TA, TB>(d, a, b, accumulate);
}

// The fragment of wgmma.cuh's comment: register 4j+2h+b at (16w + g + 8h, 8j + 2t + b).
__device__ __forceinline__ int frag_row(int r) {
    const int w = (threadIdx.x % 128) / 32, g = (threadIdx.x % 32) / 4;
    return 64 * (threadIdx.x / 128) + 16 * w + g + 8 * ((r >> 1) & 1);
}
__device__ __forceinline__ int frag_col(int r) {
    return 8 * (r >> 2) + 2 * (threadIdx.x % 4) + (r & 1);
}

// Shared layout of one stage: the A tiles of both warpgroups (8192 bytes each), then B (N * 128).
// A global: [128][K] (TA 0) or [K][128] (TA 1); B global: [N][K] (TB 0) or [K][N] (TB 1).
template <int N, int TA, int TB>
__device__ void load_stage(uint32_t stage, const bf16_t* A, const bf16_t* B, int K, int k0) {
    for (int i = threadIdx.x; i < 2 * 512 + N * 8; i += blockDim.x) {
        uint32_t dst;
        const bf16_t* src;
        if (i < 1024) {
            const int g = i / 512, row = (i % 512) / 8, c = i % 8;  // row: an M index (TA 0) or a K index (TA 1)
            dst = stage + 8192 * g + 128 * row + 16 * (c ^ (row % 8));
            src = TA == 0 ? A + (size_t)(64 * g + row) * K + k0 + 8 * c : A + (size_t)(k0 + row) * 128 + 64 * g + 8 * c;
        } else if (TB == 0) {
            const int n = (i - 1024) / 8, c = i % 8;
            dst = stage + 16384 + 128 * n + 16 * (c ^ (n % 8));
            src = B + (size_t)n * K + k0 + 8 * c;
        } else {
            const int j = i - 1024, block = j / 512, k = (j % 512) / 8, c = j % 8;
            dst = stage + 16384 + 8192 * block + 128 * k + 16 * (c ^ (k % 8));
            src = B + (size_t)(k0 + k) * N + 64 * block + 8 * c;
        }
        cp_async_16(dst, src, 16);
    }
}

template <int N, int TA, int TB>
__device__ void pipeline(float* D, const bf16_t* A, const bf16_t* B, int K, int accumulate, int mode, float* probe) {
    const uint32_t base = smem_address(dynamic_smem()), stageBytes = 16384 + N * 128;
    const int g = threadIdx.x / 128, stages = mode == OVERWRITE_IN_FLIGHT ? 1 : 2;
    float d[N / 2];
    for (int r = 0; r < N / 2; r++) d[r] = accumulate ? D[frag_row(r) * N + frag_col(r)] : 1e30f;  // ignored when 0
    for (int t = 0; t < K / 64; t++) {
        const uint32_t stage = base + stageBytes * (t % stages);
        load_stage<N, TA, TB>(stage, A, B, K, 64 * t);
        cp_async_commit();
        cp_async_wait<0>();
        if (mode != NO_PROXY_FENCE && mode != FENCE_AFTER_BARRIER) fence_proxy_async();
        __syncthreads();
        if (mode == FENCE_AFTER_BARRIER) fence_proxy_async();
        if (mode != NO_WGMMA_FENCE && !(mode == WRITE_AFTER_WAIT && t > 0)) wgmma_fence();
        for (int kk = 0; kk < 4; kk++) {
            const uint32_t a = stage + 8192 * g + (TA ? 2048 : 32) * kk, b = stage + 16384 + (TB ? 2048 : 32) * kk;
            uint64_t da = wgmma_descriptor(a, TA ? 8192 : 0, 1024), db = wgmma_descriptor(b, TB ? 8192 : 0, 1024);
            if (mode == DIVERGENT_DESC && threadIdx.x / 32 == 1) db = wgmma_descriptor(b + 16, TB ? 8192 : 0, 1024);
            if (mode == BASE_OFFSET) da |= 1ull << 49;
            if (mode == OUTSIDE_SHARED) da = wgmma_descriptor(0x30000, 0, 1024);
            mma_step<N, TA, TB>(d, da, db, t > 0 || kk > 0 ? 1 : accumulate);
        }
        wgmma_commit();
        if (mode == WRITE_ACC_IN_FLIGHT) d[5] = 1.0f;
        if (mode == READ_ACC_IN_FLIGHT) probe[threadIdx.x] = d[5];
        if (mode == WRITE_AFTER_WAIT) {
            wgmma_wait<0>();
            d[5] *= 2.0f;
        } else {
            wgmma_wait<1>();
        }
        __syncthreads();  // every thread has completed the group before last: its stage may be refilled
    }
    if (mode != NO_FINAL_WAIT) wgmma_wait<0>();
    if (mode == NO_FINAL_WAIT) return;
    for (int r = 0; r < N / 2; r++) D[frag_row(r) * N + frag_col(r)] = d[r];
}

// One block of 256 threads (two warpgroups); K a multiple of 64; D in/out (its initial values are
// accumulated when accumulate is 1); probe: 256 floats for READ_ACC_IN_FLIGHT.
extern "C" __global__ void wgmma_pipeline(float* D, const bf16_t* A, const bf16_t* B, int N, int K, int ta, int tb, int accumulate,
                               int mode, float* probe) {
    const int variant = (N == 256) * 4 + ta * 2 + tb;
    switch (variant) {
        case 0: pipeline<128, 0, 0>(D, A, B, K, accumulate, mode, probe); break;
        case 1: pipeline<128, 0, 1>(D, A, B, K, accumulate, mode, probe); break;
        case 2: pipeline<128, 1, 0>(D, A, B, K, accumulate, mode, probe); break;
        case 3: pipeline<128, 1, 1>(D, A, B, K, accumulate, mode, probe); break;
        case 4: pipeline<256, 0, 0>(D, A, B, K, accumulate, mode, probe); break;
        case 5: pipeline<256, 0, 1>(D, A, B, K, accumulate, mode, probe); break;
        case 6: pipeline<256, 1, 0>(D, A, B, K, accumulate, mode, probe); break;
        default: pipeline<256, 1, 1>(D, A, B, K, accumulate, mode, probe); break;
    }
}

template <int TA, int TB>
__device__ void layout_step(float* D, const uint4* image, int chunks, uint64_t da, uint64_t db) {
    const uint32_t base = smem_address(dynamic_smem());
    for (int i = threadIdx.x; i < chunks; i += blockDim.x) cp_async_16(base + 16 * i, image + i, 16);
    cp_async_commit();
    cp_async_wait<0>();
    fence_proxy_async();
    __syncthreads();
    float d[64];
    wgmma_fence();
    wgmma_m64n128k16<TA, TB>(d, da, db, 0);
    wgmma_commit();
    wgmma_wait<0>();
    for (int r = 0; r < 64; r++) D[frag_row(r) * 128 + frag_col(r)] = d[r];
}

// One warpgroup; the shared image (chunks of 16 bytes, from shared address 0) holds A and B as the
// descriptors da and db (their start addresses relative to the image) describe. D: 64 x 128.
extern "C" __global__ void wgmma_layout(float* D, const uint4* image, int chunks, unsigned long long da, unsigned long long db, int ta,
                             int tb) {
    const uint64_t at = smem_address(dynamic_smem()) >> 4;  // the descriptors hold offsets into the image: add its base
    switch (ta * 2 + tb) {
        case 0: layout_step<0, 0>(D, image, chunks, da + at, db + at); break;
        case 1: layout_step<0, 1>(D, image, chunks, da + at, db + at); break;
        case 2: layout_step<1, 0>(D, image, chunks, da + at, db + at); break;
        default: layout_step<1, 1>(D, image, chunks, da + at, db + at); break;
    }
}
