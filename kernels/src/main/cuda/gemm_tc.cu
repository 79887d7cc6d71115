// gemm_tc.cu: bf16 tensor-core matrix multiply, fp32 accumulation, fused epilogues.
//
// CPU reference: CpuBackend.matmul on the bf16 inputs widened to f32, then the epilogue of
// gemm_epilogue.cuh (none, bias, bias+GELU saving the pre-activation, residual add, GELU gradient,
// optional column partials of the result for a bias gradient).
// Layouts nn, nt, tn name op(A), op(B) as in gemm.cu: A [M, K] or stored [K, M]; B [K, N] or
// stored [N, K]; C [M, N]. (tt is not used by the model.) A linear layer y = x W^T is nt; its
// backward is dx = dy W (nn) and dW += dy^T x (tn).
// dtypes: A, B bf16; C and aux each bf16 or f32 (bf16Flags; the logits stay f32); bias f32. Batches run
// on grid.z with element strides strideA, strideB, strideC (aux uses strideC). Overwrites C
// unless accumulate.
// Requirements, checked by GemmTcKernels: every stored operand's contiguous dimension, batch
// stride and address are multiples of VEC elements: VEC 8 (16-byte cp.async) for the plain entry
// points, VEC 2 (4-byte copies) for the _even ones, which exist for the vocabulary (30522 = 2 mod 8).
//
// Structure (one CTA per BM x BN tile of C): a STAGES-deep ring of shared-memory tiles filled by
// cp.async, so global loads for k-tiles kt+1 .. kt+STAGES-1 are in flight while the tensor cores
// work on kt; one __syncthreads per k-tile. Warps own WM x WN sub-tiles, loaded from swizzled
// shared memory with ldmatrix (.trans where the stored operand is not K-contiguous) and
// multiplied with mma.sync m16n8k16. The epilogue stages the accumulators in shared memory
// (gemm_epilogue.cuh).
// Tile shapes and their choice per shape class: GemmTcTile (Java), which launches these.
//
// Hopper (sm_90): gemm_wgmma.sm_90a.cu is the warpgroup (wgmma) version of this kernel; the
// backend uses it on compute capability 9.0 and keeps this one for sm_80 and the _even operands.
#include "gemm_epilogue.cuh"

#define BK 32

template <bool TA, bool TB, int BM, int BN, int WM, int WN, int STAGES, int VEC>
__device__ __forceinline__ void gemm_tc(void* C, const bf16_t* A, const bf16_t* B, int M, int N, int K, i64 strideA,
                                        i64 strideB, i64 strideC, float alpha, int accumulate, int bf16Flags,
                                        int epilogue, const float* bias, void* aux, float* partials) {
    constexpr int WARPS_N = BN / WN, THREADS = (BM / WM) * WARPS_N * 32;
    constexpr int MT = WM / 16, NT = WN / 8;  // mma tiles per warp
    // Shared tiles, as stored: A [BM, BK] (n) or [BK, BM] (t); B [BN, BK] (t) or [BK, BN] (n).
    constexpr int A_COLS = TA ? BM : BK, B_COLS = TB ? BK : BN;
    constexpr int A_TILE = BM * BK, B_TILE = BN * BK;
    extern __shared__ __align__(128) unsigned char shared_bytes[];
    bf16_t* As = (bf16_t*)shared_bytes;
    bf16_t* Bs = As + STAGES * A_TILE;

    const int z = blockIdx.z;
    A += z * strideA;
    B += z * strideB;
    const i64 cOffset = z * strideC;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * WN;

    auto load_stage = [&](int stage, int kt) {
        const int k0 = kt * BK;
        if (TA) load_tile_async<BK, BM, VEC, THREADS>(As + stage * A_TILE, A, M, k0, m0, K, M);
        else load_tile_async<BM, BK, VEC, THREADS>(As + stage * A_TILE, A, K, m0, k0, M, K);
        if (TB) load_tile_async<BN, BK, VEC, THREADS>(Bs + stage * B_TILE, B, K, n0, k0, N, K);
        else load_tile_async<BK, BN, VEC, THREADS>(Bs + stage * B_TILE, B, N, k0, n0, K, N);
    };

    float acc[MT][NT][4];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;

    const int KT = (K + BK - 1) / BK;
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < KT) load_stage(s, s);
        cp_async_commit();  // empty groups too: the wait below counts groups
    }
    // ldmatrix lane roles: lanes 8i..8i+7 address the rows of 8x8 matrix i.
    const int mi = lane >> 3, r8 = lane & 7;
    for (int kt = 0; kt < KT; kt++) {
        cp_async_wait<STAGES - 2>();  // k-tile kt has landed
        __syncthreads();              // ... for every thread, and stage (kt-1) % STAGES is free again
        if (kt + STAGES - 1 < KT) load_stage((kt + STAGES - 1) % STAGES, kt + STAGES - 1);
        cp_async_commit();
        const bf16_t* as = As + (kt % STAGES) * A_TILE;
        const bf16_t* bs = Bs + (kt % STAGES) * B_TILE;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            uint32_t a[MT][4], b[NT][2];
#pragma unroll
            for (int i = 0; i < MT; i++) {
                const int m = wm0 + i * 16;
                if (TA) ldmatrix_x4_trans(a[i], smem_address(as + swizzled<A_COLS>(kk + (mi >> 1) * 8 + r8, m + (mi & 1) * 8)));
                else ldmatrix_x4(a[i], smem_address(as + swizzled<A_COLS>(m + (mi & 1) * 8 + r8, kk + (mi >> 1) * 8)));
            }
#pragma unroll
            for (int jp = 0; jp < NT / 2; jp++) {
                const int n = wn0 + jp * 16;
                uint32_t r[4];
                if (TB) ldmatrix_x4(r, smem_address(bs + swizzled<B_COLS>(n + (mi >> 1) * 8 + r8, kk + (mi & 1) * 8)));
                else ldmatrix_x4_trans(r, smem_address(bs + swizzled<B_COLS>(kk + (mi & 1) * 8 + r8, n + (mi >> 1) * 8)));
                b[2 * jp][0] = r[0];
                b[2 * jp][1] = r[1];
                b[2 * jp + 1][0] = r[2];
                b[2 * jp + 1][1] = r[3];
            }
#pragma unroll
            for (int i = 0; i < MT; i++)
#pragma unroll
                for (int j = 0; j < NT; j++) mma_bf16(acc[i][j], a[i], b[j][0], b[j][1]);
        }
    }

    // Epilogue (gemm_epilogue.cuh): the accumulators, alpha applied, staged in an f32 tile that reuses the ring.
    static_assert(BM * BN * 4 <= STAGES * (A_TILE + B_TILE) * 2, "the epilogue tile must fit in the ring");
    cp_async_wait<0>();
    __syncthreads();  // every warp is done with the ring
    float* Cs = (float*)shared_bytes;
#pragma unroll
    for (int i = 0; i < MT; i++) {
#pragma unroll
        for (int j = 0; j < NT; j++) {
            const int r = wm0 + i * 16 + (lane >> 2), c = wn0 + j * 8 + (lane & 3) * 2;
            *(float2*)&Cs[epilogue_slot<BN>(r, c)] = make_float2(alpha * acc[i][j][0], alpha * acc[i][j][1]);
            *(float2*)&Cs[epilogue_slot<BN>(r + 8, c)] = make_float2(alpha * acc[i][j][2], alpha * acc[i][j][3]);
        }
    }
    __syncthreads();
    write_epilogue<BM, BN, THREADS>(Cs, C, aux, bias, M, N, m0, n0, cOffset, accumulate, bf16Flags, epilogue, partials);
}

// One entry point per layout, tile and copy width: gemm_tc_forward_<layout>_<BM>x<BN>[_even].
#define GEMM_TC_ENTRY(NAME, TA, TB, BM, BN, WM, WN, STAGES, VEC, MIN_BLOCKS)                                       \
    extern "C" __global__ void __launch_bounds__((BM / WM) * (BN / WN) * 32, MIN_BLOCKS)                           \
        NAME(void* C, const bf16_t* A, const bf16_t* B, int M, int N, int K, i64 strideA, i64 strideB, i64 strideC, \
             float alpha, int accumulate, int bf16Flags, int epilogue, const float* bias, void* aux,             \
             float* partials) {                                                                                   \
        gemm_tc<TA, TB, BM, BN, WM, WN, STAGES, VEC>(C, A, B, M, N, K, strideA, strideB, strideC, alpha,           \
                                                     accumulate, bf16Flags, epilogue, bias, aux, partials);          \
    }

// 128 x 128, 8 warps of 64 x 32, 4 stages (64 KiB): the large GEMMs (FFN, logits, big M).
// 128 x 64,  4 warps of 64 x 32, 4 stages (48 KiB): N or M too small to fill the GPU at 128 x 128.
// 64 x 64,   4 warps of 32 x 32, 4 stages (32 KiB): small problems (attention-free batches, tests).
#define GEMM_TC_LAYOUT(L, TA, TB)                                                        \
    GEMM_TC_ENTRY(gemm_tc_forward_##L##_128x128, TA, TB, 128, 128, 64, 32, 4, 8, 2)      \
    GEMM_TC_ENTRY(gemm_tc_forward_##L##_128x64, TA, TB, 128, 64, 64, 32, 4, 8, 2)        \
    GEMM_TC_ENTRY(gemm_tc_forward_##L##_64x64, TA, TB, 64, 64, 32, 32, 4, 8, 4)          \
    GEMM_TC_ENTRY(gemm_tc_forward_##L##_128x128_even, TA, TB, 128, 128, 64, 32, 4, 2, 1) \
    GEMM_TC_ENTRY(gemm_tc_forward_##L##_128x64_even, TA, TB, 128, 64, 64, 32, 4, 2, 1)   \
    GEMM_TC_ENTRY(gemm_tc_forward_##L##_64x64_even, TA, TB, 64, 64, 32, 32, 4, 2, 2)

GEMM_TC_LAYOUT(nn, false, false)
GEMM_TC_LAYOUT(nt, false, true)
GEMM_TC_LAYOUT(tn, true, false)
