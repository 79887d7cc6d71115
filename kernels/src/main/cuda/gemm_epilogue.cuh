// gemm_epilogue.cuh: the fused epilogue both tensor-core GEMMs (gemm_tc.cu, gemm_wgmma.sm_90a.cu)
// finish with, so they compute the same function:
//   v = alpha * op(A) op(B) (+ C when accumulate: C is read in its own dtype; C and aux are each f32 or bf16)
//   epilogue 0 none:      C = v
//            1 bias:      C = v + bias[n]
//            2 bias+GELU: aux = v + bias[n] (the pre-activation geluBackward needs), C = gelu(aux)
//            3 residual:  C = v + aux[m, n]
//            4 GELU grad: C = v * gelu'(aux[m, n]) (aux the pre-activation; v is then the GELU output's
//                         gradient and C the pre-activation's, the product rounded before anything adds it)
// With `partials` (not null, one batch), the CTA also writes the column sums over its rows of the values
// C receives before their rounding to C's dtype: partials[blockIdx.y, n] (a bias gradient's first stage,
// summed over the CTAs in order by reduce_forward_columns).
// The accumulators (alpha applied) are first staged in an f32 [BM, BN] shared tile; threads then
// walk it row by row, so global reads and writes of C, aux and bias coalesce and the epilogue is
// one rolled loop. 32-byte segments of a tile row are XOR-swizzled by row (epilogue_slot), so a
// warp's accumulator fragments (8 rows x 32 bytes) land in distinct banks.
#pragma once
#include "common.cuh"
#include "gelu.cuh"
#include "mma.cuh"

enum Epilogue { EPI_NONE = 0, EPI_BIAS = 1, EPI_BIAS_GELU = 2, EPI_RESIDUAL = 3, EPI_GELU_GRAD = 4 };

__device__ __forceinline__ float load_out(const void* p, i64 i, bool bf16) {
    return bf16 ? from_bf16(((const bf16_t*)p)[i]) : ((const float*)p)[i];
}

__device__ __forceinline__ void store_out(void* p, i64 i, float v, bool bf16) {
    if (bf16) ((bf16_t*)p)[i] = to_bf16(v);
    else ((float*)p)[i] = v;
}

// The dtype flags of C and aux (an entry point's `bf16Flags`): each is bf16 when its bit is set. A
// mixed-precision feed-forward writes its GELU output bf16 (the next GEMM's operand, never needed in
// f32) and keeps the pre-activation f32 for the backward.
enum Bf16Flag { BF16_C = 1, BF16_AUX = 2 };

// One element of the epilogue at (m, n), both in range; returns the value stored, before its rounding.
__device__ __forceinline__ float finish(void* C, void* aux, const float* bias, i64 at, int n, float v, int accumulate,
                                        bool bf16, bool auxBf16, int epilogue) {
    if (accumulate) v += load_out(C, at, bf16);
    if (epilogue == EPI_BIAS) {
        v += bias[n];
    } else if (epilogue == EPI_BIAS_GELU) {
        v += bias[n];
        store_out(aux, at, v, auxBf16);
        v = gelu(v);
    } else if (epilogue == EPI_RESIDUAL) {
        v += load_out(aux, at, auxBf16);
    } else if (epilogue == EPI_GELU_GRAD) {
        v = __fmul_rn(v, gelu_grad(load_out(aux, at, auxBf16)));
    }
    store_out(C, at, v, bf16);
    return v;
}

// Where (r, c) of the staged f32 [BM, BN] tile lives.
template <int BN>
__device__ __forceinline__ int epilogue_slot(int r, int c) {
    return r * BN + (c ^ ((r & 7) << 3));
}

// Writes the staged tile Cs (every thread's accumulators stored, then a barrier) to C at (m0, n0)
// of batch offset cOffset, through the epilogue; then, with partials, the tile's column sums (the
// finished values go back into their slots, each thread's own, and are summed column by column in
// row order after a barrier: a fixed order, so the sums are the same every run).
template <int BM, int BN, int THREADS>
__device__ __forceinline__ void write_epilogue(float* Cs, void* C, void* aux, const float* bias, int M, int N, int m0,
                                               int n0, i64 cOffset, int accumulate, int bf16Flags, int epilogue,
                                               float* partials) {
    const bool bf16 = (bf16Flags & BF16_C) != 0, auxBf16 = (bf16Flags & BF16_AUX) != 0;
    C = bf16 ? (void*)((bf16_t*)C + cOffset) : (void*)((float*)C + cOffset);
    if (aux != nullptr) aux = auxBf16 ? (void*)((bf16_t*)aux + cOffset) : (void*)((float*)aux + cOffset);
    const int rows = min(BM, M - m0), cols = min(BN, N - n0);
#pragma unroll 1
    for (int e = threadIdx.x; e < BM * BN; e += THREADS) {
        const int r = e / BN, c = e % BN;
        if (r >= rows) break;  // e only grows
        if (c < cols) {
            const int slot = epilogue_slot<BN>(r, c);
            const float v = finish(C, aux, bias, (i64)(m0 + r) * N + n0 + c, n0 + c, Cs[slot], accumulate, bf16, auxBf16,
                                   epilogue);
            if (partials != nullptr) Cs[slot] = v;
        }
    }
    if (partials == nullptr) return;  // the same for every thread of the CTA
    __syncthreads();
#pragma unroll 1
    for (int c = threadIdx.x; c < cols; c += THREADS) {
        float s = 0.0f;
        for (int r = 0; r < rows; r++) s += Cs[epilogue_slot<BN>(r, c)];
        partials[(i64)(m0 / BM) * N + n0 + c] = s;
    }
}
