// philox.cuh: Philox4x32-10, bit for bit the generator of io.electra.engine.random.Philox.
//
// Element i of the stream named by (seed, step, purpose) is lane i % 4 of the block with
// counter (i/4 low 32 bits, i/4 high 32 bits, step, purpose) and key (seed low, seed high),
// exactly as RngKey documents. Integer arithmetic only, so CPU and GPU draw identical bits;
// the uniform (bits >> 8) * 2^-24 is exact in float, so dropout masks are identical too.
#pragma once
#include <stdint.h>

// The stream: key words and the two high counter words. Kernels take these as four u32
// arguments (k0, k1, step, purpose) plus the backend's step-offset word and build the struct on
// the device. The counter's step is step + *step_offset (mod 2^32, as the CPU's (int) cast): a
// replayed CUDA graph keeps the step argument it was captured with, and the host moves every
// random stream on by writing the word between replays (Backend.setRngStepOffset; 0 otherwise).
struct PhiloxKey {
    uint32_t k0, k1, step, purpose;
};

__device__ __forceinline__ PhiloxKey philox_key(uint32_t k0, uint32_t k1, uint32_t step, uint32_t purpose,
                                                const int64_t* step_offset) {
    PhiloxKey key;
    key.k0 = k0; key.k1 = k1; key.step = step + (uint32_t)*step_offset; key.purpose = purpose;
    return key;
}

// The four outputs of block number `block` (= element index / 4).
__device__ __forceinline__ uint4 philox_block(uint64_t block, PhiloxKey key) {
    uint32_t c0 = (uint32_t)block, c1 = (uint32_t)(block >> 32), c2 = key.step, c3 = key.purpose;
    uint32_t k0 = key.k0, k1 = key.k1;
#pragma unroll
    for (int round = 0; round < 10; round++) {
        const uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        const uint32_t n0 = hi1 ^ c1 ^ k0;
        const uint32_t n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return make_uint4(c0, c1, c2, c3);
}

__device__ __forceinline__ uint32_t philox_lane(uint4 b, int lane) {
    return lane == 0 ? b.x : lane == 1 ? b.y : lane == 2 ? b.z : b.w;
}

// Uniform in [0, 1) with 24 random bits, exact in float.
__device__ __forceinline__ float philox_uniform(uint32_t bits) {
    return (float)(bits >> 8) * 5.9604644775390625e-08f;  // 2^-24
}

// The dropout factor of element i (keep / (1 - p), or 0) for a kernel that walks a few consecutive
// elements: the last Philox block is cached, so four neighbours cost one block.
struct KeepCache {
    uint64_t block;
    uint4 bits;
};

__device__ __forceinline__ float keep_factor(KeepCache& cache, int64_t i, PhiloxKey key, float p, float scale) {
    const uint64_t block = (uint64_t)i >> 2;
    if (block != cache.block) {
        cache.bits = philox_block(block, key);
        cache.block = block;
    }
    return philox_uniform(philox_lane(cache.bits, (int)(i & 3))) >= p ? scale : 0.0f;
}
