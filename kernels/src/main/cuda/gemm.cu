// gemm.cu: fp32 SIMT matrix multiply, C (=|+=) alpha * op(A) op(B), batched over grid.z.
//
// CPU reference: CpuBackend.matmul. Variants nn, nt, tn, tt name op(A), op(B):
//   A is [M, K] (n) or stored [K, M] (t); B is [K, N] (n) or stored [N, K] (t); C is [M, N].
// Batches are contiguous: matrix z starts at z * M*K, z * K*N, z * M*N.
// accumulate != 0 adds into C (+=); otherwise C is overwritten (=).
// Tiling: a 64 x 64 tile of C per 256-thread block, 16 values of K per stage through shared
// memory, each thread a 4 x 4 register block at rows ty + 16 i, columns tx + 16 j (strided, so
// a warp reads consecutive shared-memory words). The +1 padding keeps the transposed tile
// stores free of bank conflicts. This is the plain reference GEMM; the bf16 tensor-core kernel
// replaces it on the hot path in a later issue.
#include "common.cuh"

#define BM 64
#define BN 64
#define BK 16

template <bool TA, bool TB>
__device__ __forceinline__ void gemm_tile(float* C, const float* A, const float* B, int M, int N, int K, float alpha,
                                          int accumulate) {
    __shared__ float As[BK][BM + 1];
    __shared__ float Bs[BK][BN + 1];
    const int z = blockIdx.z;
    A += (i64)z * M * K;
    B += (i64)z * K * N;
    C += (i64)z * M * N;
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int idx = tid + e * 256;
            // Threads walk the stored matrix's contiguous axis, so global loads coalesce.
            const int am = TA ? idx % BM : idx / BK, ak = TA ? idx / BM : idx % BK;
            const int gm = m0 + am, gk = k0 + ak;
            As[ak][am] = (gm < M && gk < K) ? (TA ? A[(i64)gk * M + gm] : A[(i64)gm * K + gk]) : 0.0f;
            const int bn = TB ? idx / BK : idx % BN, bk = TB ? idx % BK : idx / BN;
            const int gn = n0 + bn, gk2 = k0 + bk;
            Bs[bk][bn] = (gn < N && gk2 < K) ? (TB ? B[(i64)gn * K + gk2] : B[(i64)gk2 * N + gn]) : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[k][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Bs[k][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++) {
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int gm = m0 + ty + 16 * i;
        if (gm >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int gn = n0 + tx + 16 * j;
            if (gn >= N) continue;
            const i64 o = (i64)gm * N + gn;
            const float v = alpha * acc[i][j];
            C[o] = accumulate ? C[o] + v : v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) gemm_forward_nn(float* C, const float* A, const float* B, int M, int N,
                                                                  int K, float alpha, int accumulate) {
    gemm_tile<false, false>(C, A, B, M, N, K, alpha, accumulate);
}

extern "C" __global__ void __launch_bounds__(256) gemm_forward_nt(float* C, const float* A, const float* B, int M, int N,
                                                                  int K, float alpha, int accumulate) {
    gemm_tile<false, true>(C, A, B, M, N, K, alpha, accumulate);
}

extern "C" __global__ void __launch_bounds__(256) gemm_forward_tn(float* C, const float* A, const float* B, int M, int N,
                                                                  int K, float alpha, int accumulate) {
    gemm_tile<true, false>(C, A, B, M, N, K, alpha, accumulate);
}

extern "C" __global__ void __launch_bounds__(256) gemm_forward_tt(float* C, const float* A, const float* B, int M, int N,
                                                                  int K, float alpha, int accumulate) {
    gemm_tile<true, true>(C, A, B, M, N, K, alpha, accumulate);
}
