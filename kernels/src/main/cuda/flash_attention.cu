// flash_attention.cu: fused scaled-dot-product attention, forward and backward, in the flash
// style: Q, K, V tiles in shared memory, online softmax in fp32, the T x T matrix never stored.
//
// CPU reference: CpuBackend.attentionForward / attentionBackward (AttentionCpu):
//   S = q k^T * scale; P = softmax over keys with keyMask != 0 (masked keys get exactly 0; a row
//   whose keys are all masked is all zero); out = dropout(P) v, dropout element
//   ((b*H + h)*T + i)*T + j of the key's Philox stream, kept when uniform >= p, scaled by 1/(1-p).
// Saved for the backward: lse [B, H, T] F32 = log sum_j exp(S_ij) over unmasked keys (natural
// log), +inf for an all-masked row, so that exp(S - lse) is P everywhere (and 0 in that row).
// Backward (FlashAttention-2, recomputing P from lse): with delta_i = sum_d dOut_id out_id,
//   dv_j += sum_i Pd_ij dOut_i;  dS_ij = P_ij (keep_ij/(1-p) dOut_i.v_j - delta_i)
//   dq_i += scale sum_j dS_ij k_j;  dk_j += scale sum_i dS_ij q_i
// dq and dk/dv come from separate kernels (one owns query rows, the other key rows), so every
// gradient element has one writer: no atomics, deterministic, and += is a plain read-add-write.
// Layouts: q, k, v, dq, dk, dv share one HeadsLayout ("in") and out, dOut another ("out"): either
// [B, H, T, D], or in place in a fused projection [B, T, 3*H*D] (q, k, v its column thirds) and the
// context [B, T, H*D], which spares the heads copies on both sides. keyMask [B, T] I32; lse, delta
// [B, H, T]. Forward overwrites out and lse; backward overwrites dq, dk, dv, or adds into them
// (accumulate != 0).
//
// Variants: _bf16 (tensor cores: mma.sync m16n8k16 on bf16 tiles, fp32 softmax and accumulators,
// bf16 in and out) and _f32 (CUDA cores, fp32 throughout: the accuracy reference), each for head
// dims 16, 32, 64 (_d16, _d32, _d64). Grids: x = row blocks of T, y = B*H.
// This file is longer than a family file should be (about 670 lines) because the two variants
// share the dropout, masking and index conventions, and keeping them side by side keeps them equal.
#include "common.cuh"
#include "mma.cuh"
#include "philox.cuh"

#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f

// Dropout keep flags of up to 32 elements, bit c for stream element index(c). One rolled loop, so
// the Philox rounds exist once in the code; consecutive indices reuse their block of 4 draws.
template <typename Index>
__device__ __forceinline__ uint32_t keep_bits(Index index, int n, float p, PhiloxKey key) {
    uint32_t bits = 0;
    uint64_t cached = ~0ull;
    uint4 r = make_uint4(0, 0, 0, 0);
#pragma unroll 1
    for (int c = 0; c < n; c++) {
        const uint64_t idx = index(c);
        if ((idx >> 2) != cached) {
            cached = idx >> 2;
            r = philox_block(cached, key);
        }
        if (philox_uniform(philox_lane(r, (int)(idx & 3))) >= p) bits |= 1u << c;
    }
    return bits;
}

// Where the heads live: element (b, h, t, d) is at b * batch + h * head + t * row + d. [B, H, T, D]
// is (H*T*D, T*D, D); a fused projection's third is (T*3*H*D, D, 3*H*D), the context (T*H*D, D, H*D).
struct HeadsLayout {
    i64 batch;
    int head, row;
};

__device__ __forceinline__ i64 heads_base(const HeadsLayout& l, int b, int h) {
    return b * l.batch + (i64)h * l.head;
}

__device__ __forceinline__ bool key_valid(const int* keyMask, int b, int T, int j) {
    return j < T && keyMask[(i64)b * T + j] != 0;
}

// ================================================================ bf16, tensor cores
//
// A CTA owns 64 rows (4 warps x 16) of one (b, h); the other side streams through in tiles of 64
// rows, double-buffered with cp.async. Inside a warp, scores live in mma accumulators (thread
// holds rows g, g+8 and columns 2t, 2t+1 of each 8-wide tile); row reductions are shuffles over
// the 4 lanes of a quad; P goes back into the tensor cores as an A fragment (see mma.cuh).

#define FA_ROWS 64
#define FA_THREADS 128

// Bit c of a thread's 32 fragment elements of a 16 x 64 tile: c = 16 * half + 2 * nt + (e & 1), where
// half = e >> 1 picks row g or g + 8; fragment_column(c) is the element's column relative to 2t.
__device__ __forceinline__ int fragment_bit(int nt, int e) {
    return (e >> 1) * 16 + nt * 2 + (e & 1);
}

__device__ __forceinline__ int fragment_column(int c) {
    return ((c >> 1) & 7) * 8 + (c & 1);
}

__device__ __forceinline__ uint64_t element_index(int bh, int T, int i, int j) {
    return ((uint64_t)bh * T + i) * T + j;
}

// A[16 x D] fragments of a warp's 16 rows of a [64, D] swizzled tile (row-major, K = d).
template <int D>
__device__ __forceinline__ void load_a_rows(uint32_t (&a)[D / 16][4], const bf16_t* tile, int row0, int lane) {
    const int mi = lane >> 3, r8 = lane & 7;
#pragma unroll
    for (int kd = 0; kd < D / 16; kd++)
        ldmatrix_x4(a[kd], smem_address(tile + swizzled<D>(row0 + (mi & 1) * 8 + r8, kd * 16 + (mi >> 1) * 8)));
}

// acc[16 x 64] += A[16 x D] . tile^T, tile [64, D] swizzled: scores against 64 stored rows.
template <int D>
__device__ __forceinline__ void mma_a_bt(float (&acc)[8][4], const uint32_t (&a)[D / 16][4], const bf16_t* tile, int lane) {
    const int mi = lane >> 3, r8 = lane & 7;
#pragma unroll
    for (int kd = 0; kd < D / 16; kd++) {
#pragma unroll
        for (int jp = 0; jp < 4; jp++) {
            uint32_t r[4];
            ldmatrix_x4(r, smem_address(tile + swizzled<D>(jp * 16 + (mi >> 1) * 8 + r8, kd * 16 + (mi & 1) * 8)));
            mma_bf16(acc[2 * jp], a[kd], r[0], r[1]);
            mma_bf16(acc[2 * jp + 1], a[kd], r[2], r[3]);
        }
    }
}

// acc[16 x D] += P[16 x 64] . tile, tile [64, D] swizzled, P given as the accumulators of 16 x 64 scores.
template <int D>
__device__ __forceinline__ void mma_p_b(float (&acc)[D / 8][4], const float (&p)[8][4], const bf16_t* tile, int lane) {
    const int mi = lane >> 3, r8 = lane & 7;
#pragma unroll
    for (int kt = 0; kt < 4; kt++) {
        uint32_t a[4];
        a[0] = pack_bf16x2(p[2 * kt][0], p[2 * kt][1]);
        a[1] = pack_bf16x2(p[2 * kt][2], p[2 * kt][3]);
        a[2] = pack_bf16x2(p[2 * kt + 1][0], p[2 * kt + 1][1]);
        a[3] = pack_bf16x2(p[2 * kt + 1][2], p[2 * kt + 1][3]);
#pragma unroll
        for (int dp = 0; dp < D / 16; dp++) {
            uint32_t r[4];
            ldmatrix_x4_trans(r, smem_address(tile + swizzled<D>(kt * 16 + (mi & 1) * 8 + r8, dp * 16 + (mi >> 1) * 8)));
            mma_bf16(acc[2 * dp], a, r[0], r[1]);
            mma_bf16(acc[2 * dp + 1], a, r[2], r[3]);
        }
    }
}

// dst[row, d] (+)= scale * acc for a warp's 16 x D accumulators, rows ld apart; rows >= T are skipped.
template <int D>
__device__ __forceinline__ void store_rows_bf16(bf16_t* dst, int ld, const float (&acc)[D / 8][4], int row0, int T,
                                                float scale, bool accumulate, int lane) {
#pragma unroll
    for (int half = 0; half < 2; half++) {
        const int row = row0 + (lane >> 2) + half * 8;
        if (row >= T) continue;
#pragma unroll
        for (int dt = 0; dt < D / 8; dt++) {
            uint32_t* at = (uint32_t*)(dst + (i64)row * ld + dt * 8 + (lane & 3) * 2);
            float lo = scale * acc[dt][2 * half], hi = scale * acc[dt][2 * half + 1];
            if (accumulate) {
                const uint32_t old = *at;
                lo += from_bf16((bf16_t)(old & 0xffffu));
                hi += from_bf16((bf16_t)(old >> 16));
            }
            *at = pack_bf16x2(lo, hi);
        }
    }
}

template <int D>
__device__ __forceinline__ void flash_forward_bf16(bf16_t* out, float* lse, const bf16_t* q, const bf16_t* k,
                                                   const bf16_t* v, const int* keyMask, int H, int T, HeadsLayout in,
                                                   HeadsLayout ol, float scale, float p, float keepScale, PhiloxKey key) {
    __shared__ __align__(128) bf16_t Qs[FA_ROWS * D];
    __shared__ __align__(128) bf16_t Ks[2][FA_ROWS * D];
    __shared__ __align__(128) bf16_t Vs[2][FA_ROWS * D];
    const int bh = blockIdx.y, b = bh / H, q0 = blockIdx.x * FA_ROWS;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;
    const i64 inBase = heads_base(in, b, bh - b * H);
    q += inBase; k += inBase; v += inBase; out += heads_base(ol, b, bh - b * H);
    const float scaleLog2 = scale * LOG2E;

    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Qs, q, in.row, q0, 0, T, D);
    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Ks[0], k, in.row, 0, 0, T, D);
    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Vs[0], v, in.row, 0, 0, T, D);
    cp_async_commit();

    uint32_t qa[D / 16][4];
    float o[D / 8][4] = {};
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    const int blocks = (T + FA_ROWS - 1) / FA_ROWS;
    for (int kb = 0; kb < blocks; kb++) {
        if (kb + 1 < blocks) {  // the other buffer was released by the barrier that ended kb - 1
            load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Ks[(kb + 1) & 1], k, in.row, (kb + 1) * FA_ROWS, 0, T, D);
            load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Vs[(kb + 1) & 1], v, in.row, (kb + 1) * FA_ROWS, 0, T, D);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        if (kb == 0) load_a_rows<D>(qa, Qs, warp * 16, lane);

        float s[8][4] = {};
        mma_a_bt<D>(s, qa, Ks[kb & 1], lane);
        const int row0 = q0 + warp * 16 + (lane >> 2), col0 = kb * FA_ROWS + 2 * t4;  // this thread's first element
        // Scale into log2 units and mask; then the online softmax update of each of the two rows.
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int j = kb * FA_ROWS + nt * 8 + 2 * t4 + (e & 1);
                s[nt][e] = key_valid(keyMask, b, T, j) ? s[nt][e] * scaleLog2 : -INFINITY;
                mx[e >> 1] = fmaxf(mx[e >> 1], s[nt][e]);
            }
        }
        float alpha[2], mUse[2];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            mx[h] = fmaxf(mx[h], __shfl_xor_sync(FULL_MASK, mx[h], 1));
            mx[h] = fmaxf(mx[h], __shfl_xor_sync(FULL_MASK, mx[h], 2));
            const float mNew = fmaxf(m[h], mx[h]);
            mUse[h] = mNew == -INFINITY ? 0.0f : mNew;  // all masked so far: exp2(-inf - 0) = 0, no NaN
            alpha[h] = exp2f(m[h] - mUse[h]);
            m[h] = mNew;
            l[h] *= alpha[h];  // a per-lane partial sum until the end; alpha is the same on the 4 lanes
        }
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[nt][e] = exp2f(s[nt][e] - mUse[e >> 1]);
                l[e >> 1] += s[nt][e];
            }
        }
#pragma unroll
        for (int dt = 0; dt < D / 8; dt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) o[dt][e] *= alpha[e >> 1];
        }
        if (p > 0.0f) {  // the row sums above are of P; the values multiply dropout(P)
            const uint32_t keep = keep_bits([&](int c) { return element_index(bh, T, row0 + (c >> 4) * 8, col0 + fragment_column(c)); },
                                            32, p, key);
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
#pragma unroll
                for (int e = 0; e < 4; e++) s[nt][e] *= (keep >> fragment_bit(nt, e)) & 1u ? keepScale : 0.0f;
            }
        }
        mma_p_b<D>(o, s, Vs[kb & 1], lane);
        __syncthreads();  // every warp is done with buffer kb & 1 before it is refilled
    }
#pragma unroll
    for (int h = 0; h < 2; h++) {
        l[h] += __shfl_xor_sync(FULL_MASK, l[h], 1);
        l[h] += __shfl_xor_sync(FULL_MASK, l[h], 2);
        const int i = q0 + warp * 16 + (lane >> 2) + h * 8;
        if (i >= T) continue;
        const float inv = l[h] > 0.0f ? 1.0f / l[h] : 0.0f;
#pragma unroll
        for (int dt = 0; dt < D / 8; dt++) {
            *(uint32_t*)(out + (i64)i * ol.row + dt * 8 + 2 * t4) = pack_bf16x2(o[dt][2 * h] * inv, o[dt][2 * h + 1] * inv);
        }
        if (t4 == 0) lse[(i64)bh * T + i] = l[h] > 0.0f ? (m[h] + log2f(l[h])) * LN2 : INFINITY;
    }
}

// The backward recomputes P from lse. dkdv: a warp's 16 keys are the rows (K and V held as A
// fragments), queries the columns; dq: a warp's 16 queries are the rows (q and dOut as A fragments).
template <int D>
__device__ __forceinline__ void flash_backward_dkdv_bf16(bf16_t* dk, bf16_t* dv, const bf16_t* q, const bf16_t* k,
                                                         const bf16_t* v, const bf16_t* dOut, const float* lse,
                                                         const float* delta, const int* keyMask, int H, int T,
                                                         HeadsLayout in, HeadsLayout ol, bool accumulate, float scale,
                                                         float p, float keepScale, PhiloxKey key) {
    __shared__ __align__(128) bf16_t Qs[2][FA_ROWS * D];
    __shared__ __align__(128) bf16_t Gs[2][FA_ROWS * D];  // dOut
    __shared__ float lseS[2][FA_ROWS], deltaS[2][FA_ROWS];
    const int bh = blockIdx.y, b = bh / H, k0 = blockIdx.x * FA_ROWS;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;
    const i64 inBase = heads_base(in, b, bh - b * H);
    q += inBase; k += inBase; v += inBase; dk += inBase; dv += inBase; dOut += heads_base(ol, b, bh - b * H);
    lse += (i64)bh * T; delta += (i64)bh * T;
    const float scaleLog2 = scale * LOG2E;

    // This CTA's keys and values become A fragments (rows = keys), staged through the first buffers.
    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Qs[0], k, in.row, k0, 0, T, D);
    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Gs[0], v, in.row, k0, 0, T, D);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
    uint32_t ka[D / 16][4], va[D / 16][4];
    load_a_rows<D>(ka, Qs[0], warp * 16, lane);
    load_a_rows<D>(va, Gs[0], warp * 16, lane);
    bool valid[2];
#pragma unroll
    for (int h = 0; h < 2; h++) valid[h] = key_valid(keyMask, b, T, k0 + warp * 16 + (lane >> 2) + h * 8);
    __syncthreads();  // the fragments are read before the ring refills the buffers

    auto load_block = [&](int stage, int i0) {
        load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Qs[stage], q, in.row, i0, 0, T, D);
        load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Gs[stage], dOut, ol.row, i0, 0, T, D);
        if (threadIdx.x < FA_ROWS) {  // rows >= T read as 0 and are masked below
            const bool in = i0 + threadIdx.x < T;
            cp_async_4(smem_address(&lseS[stage][threadIdx.x]), in ? lse + i0 + threadIdx.x : lse, in ? 4 : 0);
            cp_async_4(smem_address(&deltaS[stage][threadIdx.x]), in ? delta + i0 + threadIdx.x : delta, in ? 4 : 0);
        }
        cp_async_commit();
    };

    float dkAcc[D / 8][4] = {}, dvAcc[D / 8][4] = {};
    const int blocks = (T + FA_ROWS - 1) / FA_ROWS;
    load_block(0, 0);
    for (int ib = 0; ib < blocks; ib++) {
        const int st = ib & 1, i0 = ib * FA_ROWS;
        if (ib + 1 < blocks) {
            load_block(st ^ 1, i0 + FA_ROWS);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        // S^T [16 keys x 64 queries] and dP'^T = V dOut^T, both with queries as columns.
        float s[8][4] = {}, dp[8][4] = {};
        mma_a_bt<D>(s, ka, Qs[st], lane);
        mma_a_bt<D>(dp, va, Gs[st], lane);
        // Rows are keys, columns queries: element (i, j) of the stream is (column, row) here.
        const int row0 = k0 + warp * 16 + (lane >> 2), col0 = i0 + 2 * t4;
        const uint32_t keepBits = p > 0.0f
                ? keep_bits([&](int c) { return element_index(bh, T, col0 + fragment_column(c), row0 + (c >> 4) * 8); }, 32, p, key)
                : ~0u;
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int c = nt * 8 + 2 * t4 + (e & 1), h = e >> 1;
                const float pij = valid[h] && i0 + c < T ? exp2f(s[nt][e] * scaleLog2 - lseS[st][c] * LOG2E) : 0.0f;
                const float keep = (keepBits >> fragment_bit(nt, e)) & 1u ? (p > 0.0f ? keepScale : 1.0f) : 0.0f;
                s[nt][e] = pij * keep;                                  // Pd^T, for dv
                dp[nt][e] = pij * (dp[nt][e] * keep - deltaS[st][c]);  // dS^T, for dk
            }
        }
        mma_p_b<D>(dvAcc, s, Gs[st], lane);   // dv += Pd^T dOut
        mma_p_b<D>(dkAcc, dp, Qs[st], lane);  // dk += dS^T q (scale at the end)
        __syncthreads();
    }
    store_rows_bf16<D>(dk, in.row, dkAcc, k0 + warp * 16, T, scale, accumulate, lane);
    store_rows_bf16<D>(dv, in.row, dvAcc, k0 + warp * 16, T, 1.0f, accumulate, lane);
}

template <int D>
__device__ __forceinline__ void flash_backward_dq_bf16(bf16_t* dq, const bf16_t* q, const bf16_t* k, const bf16_t* v,
                                                       const bf16_t* dOut, const float* lse, const float* delta,
                                                       const int* keyMask, int H, int T, HeadsLayout in, HeadsLayout ol,
                                                       bool accumulate, float scale, float p, float keepScale,
                                                       PhiloxKey key) {
    __shared__ __align__(128) bf16_t Ks[2][FA_ROWS * D];
    __shared__ __align__(128) bf16_t Vs[2][FA_ROWS * D];
    const int bh = blockIdx.y, b = bh / H, q0 = blockIdx.x * FA_ROWS;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;
    const i64 inBase = heads_base(in, b, bh - b * H);
    q += inBase; k += inBase; v += inBase; dq += inBase; dOut += heads_base(ol, b, bh - b * H);
    const float scaleLog2 = scale * LOG2E;

    // This CTA's queries and output gradients become A fragments, staged through the second buffers.
    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Ks[1], q, in.row, q0, 0, T, D);
    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Vs[1], dOut, ol.row, q0, 0, T, D);
    cp_async_commit();
    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Ks[0], k, in.row, 0, 0, T, D);
    load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Vs[0], v, in.row, 0, 0, T, D);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    uint32_t qa[D / 16][4], ga[D / 16][4];
    load_a_rows<D>(qa, Ks[1], warp * 16, lane);
    load_a_rows<D>(ga, Vs[1], warp * 16, lane);
    float lseLog2[2], dlt[2];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int i = min(q0 + warp * 16 + (lane >> 2) + h * 8, T - 1);  // rows >= T compute garbage, never stored
        lseLog2[h] = lse[(i64)bh * T + i] * LOG2E;
        dlt[h] = delta[(i64)bh * T + i];
    }
    __syncthreads();  // buffers 1 are read before the ring refills them

    float dqAcc[D / 8][4] = {};
    const int blocks = (T + FA_ROWS - 1) / FA_ROWS;
    for (int kb = 0; kb < blocks; kb++) {
        if (kb + 1 < blocks) {
            load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Ks[(kb + 1) & 1], k, in.row, (kb + 1) * FA_ROWS, 0, T, D);
            load_tile_async<FA_ROWS, D, 8, FA_THREADS>(Vs[(kb + 1) & 1], v, in.row, (kb + 1) * FA_ROWS, 0, T, D);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        float s[8][4] = {}, dp[8][4] = {};
        mma_a_bt<D>(s, qa, Ks[kb & 1], lane);  // S = q k^T
        mma_a_bt<D>(dp, ga, Vs[kb & 1], lane); // dP' = dOut v^T
        const int row0 = q0 + warp * 16 + (lane >> 2), col0 = kb * FA_ROWS + 2 * t4;
        const uint32_t keepBits = p > 0.0f
                ? keep_bits([&](int c) { return element_index(bh, T, row0 + (c >> 4) * 8, col0 + fragment_column(c)); }, 32, p, key)
                : ~0u;
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int j = col0 + nt * 8 + (e & 1), h = e >> 1;
                const float pij = key_valid(keyMask, b, T, j) ? exp2f(s[nt][e] * scaleLog2 - lseLog2[h]) : 0.0f;
                const float keep = (keepBits >> fragment_bit(nt, e)) & 1u ? (p > 0.0f ? keepScale : 1.0f) : 0.0f;
                s[nt][e] = pij * (dp[nt][e] * keep - dlt[h]);  // dS
            }
        }
        mma_p_b<D>(dqAcc, s, Ks[kb & 1], lane);  // dq += dS k (scale at the end)
        __syncthreads();
    }
    store_rows_bf16<D>(dq, in.row, dqAcc, q0 + warp * 16, T, scale, accumulate, lane);
}

// ================================================================ f32, CUDA cores
//
// L = D / 16 consecutive lanes share a row, each owning 16 of its D values; dot products are
// reduced over those lanes with xor shuffles. Blocks of 128 threads hold 128 / L rows; the other
// side streams through shared memory in tiles of 32 rows. Rows past T still take part in the
// shuffles and barriers, and store nothing.

#define F32_TILE 32
#define F32_THREADS 128

template <int L>
__device__ __forceinline__ float lanes_sum(float x) {
#pragma unroll
    for (int o = L / 2; o > 0; o >>= 1) x += __shfl_xor_sync(FULL_MASK, x, o);
    return x;
}

__device__ __forceinline__ float dot16(const float (&a)[16], const float* b) {
    float s = 0.0f;
#pragma unroll
    for (int d = 0; d < 16; d++) s = fmaf(a[d], b[d], s);
    return s;
}

// A [F32_TILE, D] tile of rows r0.. of src, rows ld apart (rows >= T read as 0), by all threads.
template <int D>
__device__ __forceinline__ void load_rows_f32(float* tile, const float* src, int ld, int r0, int T) {
    for (int e = threadIdx.x; e < F32_TILE * D; e += F32_THREADS) {
        const int r = e / D;
        tile[e] = r0 + r < T ? src[(i64)(r0 + r) * ld + e % D] : 0.0f;
    }
}

template <int D>
__device__ __forceinline__ void flash_forward_f32(float* out, float* lse, const float* q, const float* k, const float* v,
                                                  const int* keyMask, int H, int T, HeadsLayout in, HeadsLayout ol,
                                                  float scale, float p, float keepScale, PhiloxKey key) {
    constexpr int L = D / 16, ROWS = F32_THREADS / L;
    __shared__ float Ks[F32_TILE * D], Vs[F32_TILE * D];
    __shared__ int validS[F32_TILE];
    const int bh = blockIdx.y, b = bh / H;
    const int i = blockIdx.x * ROWS + threadIdx.x / L, d0 = (threadIdx.x % L) * 16;
    const i64 base = heads_base(in, b, bh - b * H);
    float qv[16], o[16] = {};
#pragma unroll
    for (int d = 0; d < 16; d++) qv[d] = i < T ? q[base + (i64)i * in.row + d0 + d] : 0.0f;
    float m = -INFINITY, l = 0.0f;
    for (int j0 = 0; j0 < T; j0 += F32_TILE) {
        load_rows_f32<D>(Ks, k + base, in.row, j0, T);
        load_rows_f32<D>(Vs, v + base, in.row, j0, T);
        if (threadIdx.x < F32_TILE) validS[threadIdx.x] = key_valid(keyMask, b, T, j0 + threadIdx.x);
        __syncthreads();
        float s[F32_TILE];
        float mx = -INFINITY;
#pragma unroll
        for (int j = 0; j < F32_TILE; j++) {
            s[j] = lanes_sum<L>(dot16(qv, &Ks[j * D + d0])) * scale;
            if (!validS[j]) s[j] = -INFINITY;
            mx = fmaxf(mx, s[j]);
        }
        const float mNew = fmaxf(m, mx);
        if (mNew != -INFINITY) {  // uniform over the L lanes of a row: no shuffles below
            const float alpha = expf(m - mNew);
            l *= alpha;
#pragma unroll
            for (int d = 0; d < 16; d++) o[d] *= alpha;
            const uint32_t keep = p > 0.0f ? keep_bits([&](int c) { return element_index(bh, T, i, j0 + c); }, F32_TILE, p, key) : ~0u;
            const float kept = p > 0.0f ? keepScale : 1.0f;
#pragma unroll
            for (int j = 0; j < F32_TILE; j++) {
                float pj = expf(s[j] - mNew);
                l += pj;
                pj *= (keep >> j) & 1u ? kept : 0.0f;
#pragma unroll
                for (int d = 0; d < 16; d++) o[d] = fmaf(pj, Vs[j * D + d0 + d], o[d]);
            }
            m = mNew;
        }
        __syncthreads();
    }
    if (i >= T) return;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
    for (int d = 0; d < 16; d++) out[heads_base(ol, b, bh - b * H) + (i64)i * ol.row + d0 + d] = o[d] * inv;
    if (d0 == 0) lse[(i64)bh * T + i] = l > 0.0f ? m + logf(l) : INFINITY;
}

template <int D>
__device__ __forceinline__ void flash_backward_dq_f32(float* dq, const float* q, const float* k, const float* v,
                                                      const float* dOut, const float* lse, const float* delta,
                                                      const int* keyMask, int H, int T, HeadsLayout in, HeadsLayout ol,
                                                      bool accumulate, float scale, float p, float keepScale,
                                                      PhiloxKey key) {
    constexpr int L = D / 16, ROWS = F32_THREADS / L;
    __shared__ float Ks[F32_TILE * D], Vs[F32_TILE * D];
    __shared__ int validS[F32_TILE];
    const int bh = blockIdx.y, b = bh / H;
    const int i = blockIdx.x * ROWS + threadIdx.x / L, d0 = (threadIdx.x % L) * 16;
    const i64 base = heads_base(in, b, bh - b * H), row = base + (i64)min(i, T - 1) * in.row + d0;
    const i64 gRow = heads_base(ol, b, bh - b * H) + (i64)min(i, T - 1) * ol.row + d0;
    float qv[16], g[16], acc[16] = {};
#pragma unroll
    for (int d = 0; d < 16; d++) {
        qv[d] = q[row + d];
        g[d] = dOut[gRow + d];
    }
    const float lsei = lse[(i64)bh * T + min(i, T - 1)], dlt = delta[(i64)bh * T + min(i, T - 1)];
    for (int j0 = 0; j0 < T; j0 += F32_TILE) {
        load_rows_f32<D>(Ks, k + base, in.row, j0, T);
        load_rows_f32<D>(Vs, v + base, in.row, j0, T);
        if (threadIdx.x < F32_TILE) validS[threadIdx.x] = key_valid(keyMask, b, T, j0 + threadIdx.x);
        __syncthreads();
        const uint32_t keepBits = p > 0.0f ? keep_bits([&](int c) { return element_index(bh, T, i, j0 + c); }, F32_TILE, p, key) : ~0u;
        const float kept = p > 0.0f ? keepScale : 1.0f;
#pragma unroll 4
        for (int j = 0; j < F32_TILE; j++) {
            const float sij = lanes_sum<L>(dot16(qv, &Ks[j * D + d0])) * scale;
            const float dpij = lanes_sum<L>(dot16(g, &Vs[j * D + d0]));
            const float pij = validS[j] ? expf(sij - lsei) : 0.0f;
            if (pij == 0.0f) continue;  // uniform over the row's lanes, after the shuffles
            const float keep = (keepBits >> j) & 1u ? kept : 0.0f;
            const float ds = pij * (dpij * keep - dlt);
#pragma unroll
            for (int d = 0; d < 16; d++) acc[d] = fmaf(ds, Ks[j * D + d0 + d], acc[d]);
        }
        __syncthreads();
    }
    if (i >= T) return;
#pragma unroll
    for (int d = 0; d < 16; d++) {
        float* at = dq + row + d;
        *at = accumulate ? *at + scale * acc[d] : scale * acc[d];
    }
}

template <int D>
__device__ __forceinline__ void flash_backward_dkdv_f32(float* dk, float* dv, const float* q, const float* k,
                                                        const float* v, const float* dOut, const float* lse,
                                                        const float* delta, const int* keyMask, int H, int T,
                                                        HeadsLayout in, HeadsLayout ol, bool accumulate, float scale,
                                                        float p, float keepScale, PhiloxKey key) {
    constexpr int L = D / 16, ROWS = F32_THREADS / L;
    __shared__ float Qs[F32_TILE * D], Gs[F32_TILE * D];
    __shared__ float lseS[F32_TILE], deltaS[F32_TILE];
    const int bh = blockIdx.y, b = bh / H;
    const int j = blockIdx.x * ROWS + threadIdx.x / L, d0 = (threadIdx.x % L) * 16;
    const i64 base = heads_base(in, b, bh - b * H), row = base + (i64)min(j, T - 1) * in.row + d0;
    const bool valid = key_valid(keyMask, b, T, j);
    float kv[16], vv[16], dkAcc[16] = {}, dvAcc[16] = {};
#pragma unroll
    for (int d = 0; d < 16; d++) {
        kv[d] = k[row + d];
        vv[d] = v[row + d];
    }
    for (int i0 = 0; i0 < T; i0 += F32_TILE) {
        load_rows_f32<D>(Qs, q + base, in.row, i0, T);
        load_rows_f32<D>(Gs, dOut + heads_base(ol, b, bh - b * H), ol.row, i0, T);
        if (threadIdx.x < F32_TILE) {
            const int i = i0 + threadIdx.x;
            lseS[threadIdx.x] = i < T ? lse[(i64)bh * T + i] : INFINITY;  // exp(s - inf) = 0: no such query
            deltaS[threadIdx.x] = i < T ? delta[(i64)bh * T + i] : 0.0f;
        }
        __syncthreads();
        const uint32_t keepBits = p > 0.0f ? keep_bits([&](int c) { return element_index(bh, T, i0 + c, j); }, F32_TILE, p, key) : ~0u;
        const float kept = p > 0.0f ? keepScale : 1.0f;
#pragma unroll 4
        for (int c = 0; c < F32_TILE; c++) {
            const float sij = lanes_sum<L>(dot16(kv, &Qs[c * D + d0])) * scale;
            const float dpij = lanes_sum<L>(dot16(vv, &Gs[c * D + d0]));
            const float pij = valid ? expf(sij - lseS[c]) : 0.0f;
            if (pij == 0.0f) continue;
            const float keep = (keepBits >> c) & 1u ? kept : 0.0f;
            const float pd = pij * keep, ds = pij * (dpij * keep - deltaS[c]);
#pragma unroll
            for (int d = 0; d < 16; d++) {
                dvAcc[d] = fmaf(pd, Gs[c * D + d0 + d], dvAcc[d]);
                dkAcc[d] = fmaf(ds, Qs[c * D + d0 + d], dkAcc[d]);
            }
        }
        __syncthreads();
    }
    if (j >= T) return;
#pragma unroll
    for (int d = 0; d < 16; d++) {
        float *atK = dk + row + d, *atV = dv + row + d;
        *atK = accumulate ? *atK + scale * dkAcc[d] : scale * dkAcc[d];
        *atV = accumulate ? *atV + dvAcc[d] : dvAcc[d];
    }
}

// ================================================================ delta and the entry points

// delta[r] = sum_d dOut[r, d] * out[r, d] for rows r = (b*H + h)*T + t of [B, H, T], out and dOut in
// layout ol: one warp per row.
template <typename E>
__device__ __forceinline__ float element(const E* p, i64 i);
template <>
__device__ __forceinline__ float element<float>(const float* p, i64 i) { return p[i]; }
template <>
__device__ __forceinline__ float element<bf16_t>(const bf16_t* p, i64 i) { return from_bf16(p[i]); }

template <typename E>
__device__ __forceinline__ void flash_backward_prep(float* delta, const E* dOut, const E* out, int H, int T, i64 rows,
                                                    int D, HeadsLayout ol) {
    const i64 r = blockIdx.x * (i64)(blockDim.x >> 5) + (threadIdx.x >> 5);
    if (r >= rows) return;
    const i64 bh = r / T;
    const int b = (int)(bh / H);
    const i64 at = heads_base(ol, b, (int)(bh - (i64)b * H)) + (r - bh * T) * ol.row;
    float s = 0.0f;
    for (int d = threadIdx.x & 31; d < D; d += 32) s += element(dOut, at + d) * element(out, at + d);
    s = warp_sum(s);
    if ((threadIdx.x & 31) == 0) delta[r] = s;
}

extern "C" __global__ void flash_attention_backward_prep_f32(float* delta, const float* dOut, const float* out, int H,
                                                             int T, i64 rows, int D, i64 outBatch, int outHead,
                                                             int outRow) {
    flash_backward_prep<float>(delta, dOut, out, H, T, rows, D, HeadsLayout{outBatch, outHead, outRow});
}

extern "C" __global__ void flash_attention_backward_prep_bf16(float* delta, const bf16_t* dOut, const bf16_t* out, int H,
                                                              int T, i64 rows, int D, i64 outBatch, int outHead,
                                                              int outRow) {
    flash_backward_prep<bf16_t>(delta, dOut, out, H, T, rows, D, HeadsLayout{outBatch, outHead, outRow});
}

// The layouts arrive as scalars (in: q, k, v and their gradients; out: out and dOut), see HeadsLayout.
#define FLASH_ENTRIES(TYPE, E, THREADS, D)                                                                              \
    extern "C" __global__ void __launch_bounds__(THREADS) flash_attention_forward_##TYPE##_d##D(                        \
        E* out, float* lse, const E* q, const E* k, const E* v, const int* keyMask, int H, int T, i64 inBatch,          \
        int inHead, int inRow, i64 outBatch, int outHead, int outRow, float scale, float p, float keepScale,            \
        uint32_t k0, uint32_t k1, uint32_t step, uint32_t purpose, const int64_t* step_offset) {                        \
        flash_forward_##TYPE<D>(out, lse, q, k, v, keyMask, H, T, HeadsLayout{inBatch, inHead, inRow},                  \
                                HeadsLayout{outBatch, outHead, outRow}, scale, p, keepScale,                            \
                                philox_key(k0, k1, step, purpose, step_offset));                                        \
    }                                                                                                                   \
    extern "C" __global__ void __launch_bounds__(THREADS) flash_attention_backward_dq_##TYPE##_d##D(                    \
        E* dq, const E* q, const E* k, const E* v, const E* dOut, const float* lse, const float* delta,                 \
        const int* keyMask, int H, int T, i64 inBatch, int inHead, int inRow, i64 outBatch, int outHead, int outRow,    \
        int accumulate, float scale, float p, float keepScale, uint32_t k0, uint32_t k1, uint32_t step,                 \
        uint32_t purpose, const int64_t* step_offset) {                                                                 \
        flash_backward_dq_##TYPE<D>(dq, q, k, v, dOut, lse, delta, keyMask, H, T, HeadsLayout{inBatch, inHead, inRow},  \
                                    HeadsLayout{outBatch, outHead, outRow}, accumulate != 0, scale, p, keepScale,       \
                                    philox_key(k0, k1, step, purpose, step_offset));                                    \
    }                                                                                                                   \
    extern "C" __global__ void __launch_bounds__(THREADS) flash_attention_backward_dkdv_##TYPE##_d##D(                  \
        E* dk, E* dv, const E* q, const E* k, const E* v, const E* dOut, const float* lse, const float* delta,          \
        const int* keyMask, int H, int T, i64 inBatch, int inHead, int inRow, i64 outBatch, int outHead, int outRow,    \
        int accumulate, float scale, float p, float keepScale, uint32_t k0, uint32_t k1, uint32_t step,                 \
        uint32_t purpose, const int64_t* step_offset) {                                                                 \
        flash_backward_dkdv_##TYPE<D>(dk, dv, q, k, v, dOut, lse, delta, keyMask, H, T,                                 \
                                      HeadsLayout{inBatch, inHead, inRow}, HeadsLayout{outBatch, outHead, outRow},      \
                                      accumulate != 0, scale, p, keepScale,                                             \
                                      philox_key(k0, k1, step, purpose, step_offset));                                  \
    }

FLASH_ENTRIES(bf16, bf16_t, FA_THREADS, 16)
FLASH_ENTRIES(bf16, bf16_t, FA_THREADS, 32)
FLASH_ENTRIES(bf16, bf16_t, FA_THREADS, 64)
FLASH_ENTRIES(f32, float, F32_THREADS, 16)
FLASH_ENTRIES(f32, float, F32_THREADS, 32)
FLASH_ENTRIES(f32, float, F32_THREADS, 64)
