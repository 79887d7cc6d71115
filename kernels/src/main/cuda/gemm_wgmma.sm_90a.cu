// gemm_wgmma.sm_90a.cu: the Hopper version of gemm_tc.cu. Same entry-point parameters, layouts
// (nn, nt, tn), dtypes, batching and fused epilogues (gemm_epilogue.cuh); same CPU reference.
// Built for sm_90a only (wgmma has no portable form), so the backend loads it on compute
// capability 9.0 and falls back to gemm_tc elsewhere.
//
// Why a second kernel: on Hopper, mma.sync issues from one warp at a time and its operands pass
// through registers (ldmatrix); wgmma lets a warpgroup (128 threads) multiply 64 x N x 16 straight
// out of shared memory, asynchronously, which is how the tensor cores reach their full rate.
//
// Structure (one CTA per BM x BN tile of C, BM / 64 warpgroups, each owning 64 rows x all BN
// columns, so each wgmma is m64nBNk16):
//   - a STAGES-deep ring of 64-deep k-tiles in the 128-byte-swizzled layouts wgmma reads
//     (wgmma.cuh), filled with 16-byte cp.async by every thread;
//   - per k-tile: wait for its copies, fence.proxy.async (cp.async writes through the generic
//     proxy, wgmma reads through the async one), barrier, issue the copies for k-tile kt+STAGES-2,
//     then 4 wgmma (k = 16 each) as one batch, and wait until at most that batch is in flight. So
//     the tensor cores overlap the next batch's issue, and the copies run STAGES-2 tiles ahead;
//     the stage being refilled held k-tile kt-2, whose batch every warpgroup finished before the
//     barrier (each waited for it at the end of iteration kt-1).
//   - epilogue: accumulators (alpha applied) staged in an f32 tile in the ring, then written
//     through the fused epilogue with coalesced accesses.
// Operand requirements as gemm_tc's VEC 8 entry points: every stored operand's contiguous
// dimension, batch stride and address are multiples of 8 elements (16 bytes). Edges of M, N and K
// are zero-filled by the copies (src-size 0), as in gemm_tc.
//
// Why no TMA: the bulk tensor copy engine needs a CUtensorMap from cuTensorMapEncodeTiled, which
// JCuda 12.6 does not bind. The route: a small JNI shim (or a newer binding) that encodes the map
// into a 128-byte host buffer, passed as a __grid_constant__ parameter, with a producer warp and
// mbarriers replacing the cp.async ring.
#include "gemm_epilogue.cuh"
#include "wgmma.cuh"

#define WG_BK 64            // k-tile depth: one 128-byte swizzle row of bf16
#define WG_ROW_BYTES 128    // bytes per tile row (64 bf16)
#define WG_BLOCK_BYTES 8192 // an MN-major 64 x 64 block: 64 K rows of 128 bytes

// Byte offset, inside a K-major tile, of the 16-byte chunk c (of 8) of row r.
__device__ __forceinline__ uint32_t kmajor_chunk(int r, int c) {
    return r * WG_ROW_BYTES + ((c ^ (r & 7)) << 4);
}

// Byte offset, inside an MN-major tile, of the 16-byte chunk cc (8 MN values) of K row kr.
__device__ __forceinline__ uint32_t mnmajor_chunk(int kr, int cc) {
    return (cc >> 3) * WG_BLOCK_BYTES + kr * WG_ROW_BYTES + (((cc & 7) ^ (kr & 7)) << 4);
}

// K-major tile of ROWS rows x 64 K: element (r, k) is src[(row0 + r) * ld + k0 + k]; rows at or
// past rows_total and k at or past K read as zero. K is a multiple of 8, so a chunk is all in or out.
template <int ROWS, int THREADS>
__device__ __forceinline__ void load_kmajor(uint32_t tile, const bf16_t* src, i64 ld, int row0, int k0, int rows_total, int K) {
    constexpr int UNITS = ROWS * 8;
    static_assert(UNITS % THREADS == 0, "every thread copies the same number of chunks");
#pragma unroll
    for (int i = 0; i < UNITS / THREADS; i++) {
        const int u = threadIdx.x + i * THREADS, r = u >> 3, c = u & 7;
        const int gr = row0 + r, gk = k0 + c * 8;
        const bool valid = gr < rows_total && gk < K;
        cp_async_16(tile + kmajor_chunk(r, c), valid ? src + (i64)gr * ld + gk : src, valid ? 16 : 0);
    }
}

// MN-major tile of 64 K rows x COLS MN values: element (k, j) is src[(k0 + k) * ld + mn0 + j].
template <int COLS, int THREADS>
__device__ __forceinline__ void load_mnmajor(uint32_t tile, const bf16_t* src, i64 ld, int k0, int mn0, int K, int mn_total) {
    constexpr int PER_ROW = COLS / 8, UNITS = WG_BK * PER_ROW;
    static_assert(UNITS % THREADS == 0, "every thread copies the same number of chunks");
#pragma unroll
    for (int i = 0; i < UNITS / THREADS; i++) {
        const int u = threadIdx.x + i * THREADS, kr = u / PER_ROW, cc = u % PER_ROW;
        const int gk = k0 + kr, gj = mn0 + cc * 8;
        const bool valid = gk < K && gj < mn_total;
        cp_async_16(tile + mnmajor_chunk(kr, cc), valid ? src + (i64)gk * ld + gj : src, valid ? 16 : 0);
    }
}

// Descriptor of k-step s (16 deep) of a tile at shared address tile; rows = the 64 (A) or BN (B)
// rows of M or N the instruction reads, starting at row0 of the tile (a multiple of 64).
template <bool MN_MAJOR>
__device__ __forceinline__ uint64_t step_descriptor(uint32_t tile, int row0, int s) {
    if (MN_MAJOR) return wgmma_descriptor(tile + (row0 / 64) * WG_BLOCK_BYTES + s * 2 * 1024, WG_BLOCK_BYTES, 1024);
    return wgmma_descriptor(tile + row0 * WG_ROW_BYTES + s * 32, 16, 1024);
}

// One k16 step. The instruction's trans flags say which operand is MN-major: A when stored [K, M]
// (TA), B when stored [K, N] (not TB; wgmma's default B is K-major, the [N, K] that TB means).
template <int BN, bool TA, bool TB>
__device__ __forceinline__ void wgmma_step(float (&acc)[BN / 2], uint64_t a, uint64_t b) {
    if constexpr (BN == 256) wgmma_m64n256k16<TA, !TB>(acc, a, b, 1);
    else wgmma_m64n128k16<TA, !TB>(acc, a, b, 1);
}

template <bool TA, bool TB, int BM, int BN, int STAGES>
__device__ __forceinline__ void gemm_wgmma(void* C, const bf16_t* A, const bf16_t* B, int M, int N, int K, i64 strideA,
                                           i64 strideB, i64 strideC, float alpha, int accumulate, int bf16Flags,
                                           int epilogue, const float* bias, void* aux, float* partials) {
    static_assert(BM % 64 == 0 && (BN == 128 || BN == 256) && STAGES >= 3, "tile shape");
    constexpr int THREADS = BM / 64 * 128;
    constexpr uint32_t A_BYTES = BM * WG_ROW_BYTES, B_BYTES = BN * WG_ROW_BYTES, STAGE_BYTES = A_BYTES + B_BYTES;
    // The swizzle pattern repeats every 1024 bytes of shared address, so the ring starts on such a
    // boundary; the launcher asks for 1024 bytes more than the ring for this. (Only 16-byte alignment
    // of dynamic shared memory is promised; declaring more would let the compiler drop the round-up.)
    extern __shared__ __align__(16) unsigned char shared_bytes[];
    const uint32_t unaligned = smem_address(shared_bytes);
    const uint32_t ring = (unaligned + 1023) & ~1023u;
    unsigned char* ring_bytes = shared_bytes + (ring - unaligned);

    const int z = blockIdx.z;
    A += z * strideA;
    B += z * strideB;
    const i64 cOffset = z * strideC;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int warpgroup = threadIdx.x >> 7;

    auto load_stage = [&](int stage, int kt) {
        const uint32_t a = ring + stage * STAGE_BYTES, b = a + A_BYTES;
        const int k0 = kt * WG_BK;
        if (TA) load_mnmajor<BM, THREADS>(a, A, M, k0, m0, K, M);
        else load_kmajor<BM, THREADS>(a, A, K, m0, k0, M, K);
        if (TB) load_kmajor<BN, THREADS>(b, B, K, n0, k0, N, K);
        else load_mnmajor<BN, THREADS>(b, B, N, k0, n0, K, N);
    };

    float acc[BN / 2];
#pragma unroll
    for (int i = 0; i < BN / 2; i++) acc[i] = 0.0f;

    const int KT = (K + WG_BK - 1) / WG_BK;
#pragma unroll
    for (int s = 0; s < STAGES - 2; s++) {
        if (s < KT) load_stage(s, s);
        cp_async_commit();  // empty groups too: the wait below counts groups
    }
    for (int kt = 0; kt < KT; kt++) {
        cp_async_wait<STAGES - 3>();  // this thread's copies of k-tile kt have landed
        fence_proxy_async();          // ... and are visible to wgmma's async proxy
        __syncthreads();              // ... for every thread; k-tile kt-2's batch is done everywhere
        if (kt + STAGES - 2 < KT) load_stage((kt + STAGES - 2) % STAGES, kt + STAGES - 2);
        cp_async_commit();
        const uint32_t a = ring + (kt % STAGES) * STAGE_BYTES, b = a + A_BYTES;
        wgmma_fence();
#pragma unroll
        for (int s = 0; s < WG_BK / 16; s++)
            wgmma_step<BN, TA, TB>(acc, step_descriptor<TA>(a, warpgroup * 64, s), step_descriptor<!TB>(b, 0, s));
        wgmma_commit();
        wgmma_wait<1>();  // k-tile kt-1's batch is done: its stage may be refilled after the next barrier
    }
    wgmma_wait<0>();

    // Epilogue: fragment (wgmma.cuh) -> staged f32 tile in the ring -> gemm_epilogue.cuh.
    static_assert(BM * BN * 4 <= STAGES * STAGE_BYTES, "the epilogue tile must fit in the ring");
    cp_async_wait<0>();
    __syncthreads();  // every warpgroup is done with the ring
    float* Cs = (float*)ring_bytes;
    const int lane = threadIdx.x & 31, warp = (threadIdx.x >> 5) & 3;
    const int r = warpgroup * 64 + warp * 16 + (lane >> 2);
#pragma unroll
    for (int j = 0; j < BN / 8; j++) {
        const int c = j * 8 + (lane & 3) * 2;
        *(float2*)&Cs[epilogue_slot<BN>(r, c)] = make_float2(alpha * acc[4 * j], alpha * acc[4 * j + 1]);
        *(float2*)&Cs[epilogue_slot<BN>(r + 8, c)] = make_float2(alpha * acc[4 * j + 2], alpha * acc[4 * j + 3]);
    }
    __syncthreads();
    write_epilogue<BM, BN, THREADS>(Cs, C, aux, bias, M, N, m0, n0, cOffset, accumulate, bf16Flags, epilogue, partials);
}

// One entry point per layout and tile: gemm_wgmma_forward_<layout>_<BM>x<BN>.
#define GEMM_WGMMA_ENTRY(NAME, TA, TB, BM, BN, STAGES, MIN_BLOCKS)                                                   \
    extern "C" __global__ void __launch_bounds__(BM / 64 * 128, MIN_BLOCKS)                                         \
        NAME(void* C, const bf16_t* A, const bf16_t* B, int M, int N, int K, i64 strideA, i64 strideB, i64 strideC, \
             float alpha, int accumulate, int bf16Flags, int epilogue, const float* bias, void* aux,             \
             float* partials) {                                                                                   \
        gemm_wgmma<TA, TB, BM, BN, STAGES>(C, A, B, M, N, K, strideA, strideB, strideC, alpha, accumulate, bf16Flags, \
                                           epilogue, bias, aux, partials);                                          \
    }

// 128 x 256, 2 warpgroups, 4 stages (192 KiB): the large GEMMs (FFN, logits, big M).
// 128 x 128, 2 warpgroups, 6 stages (192 KiB): the model's hidden-size products.
// 64 x 128,  1 warpgroup,  4 stages (96 KiB, two CTAs per SM): small grids.
#define GEMM_WGMMA_LAYOUT(L, TA, TB)                                   \
    GEMM_WGMMA_ENTRY(gemm_wgmma_forward_##L##_128x256, TA, TB, 128, 256, 4, 1) \
    GEMM_WGMMA_ENTRY(gemm_wgmma_forward_##L##_128x128, TA, TB, 128, 128, 6, 1) \
    GEMM_WGMMA_ENTRY(gemm_wgmma_forward_##L##_64x128, TA, TB, 64, 128, 4, 2)

GEMM_WGMMA_LAYOUT(nn, false, false)
GEMM_WGMMA_LAYOUT(nt, false, true)
GEMM_WGMMA_LAYOUT(tn, true, false)
