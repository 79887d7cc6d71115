// mma.cuh: the Ampere tensor-core toolkit gemm_tc.cu and flash_attention.cu share: bf16
// conversion, cp.async, ldmatrix, mma.sync m16n8k16, and the shared-memory swizzle.
//
// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16"), lane = threadIdx.x % 32,
// g = lane / 4, t = lane % 4:
//   A 16x16 (row-major, 4 regs of 2 bf16): a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 8+2t..), a3 (g+8, 8+2t..)
//   B 16x8  (k x n, 2 regs):               b0 (k 2t..2t+1, n g), b1 (k 8+2t.., n g)
//   C 16x8  (4 f32):                        c0 c1 (g, 2t..2t+1), c2 c3 (g+8, 2t..2t+1)
// so the C fragments of two neighbouring 16x8 tiles are, after conversion to bf16, exactly the A
// fragment of one 16x16 tile: attention feeds P = softmax(S) to the next mma without shared memory.
//
// Shared-memory tiles are rows of 16-byte chunks (8 bf16). ldmatrix reads one chunk from each of
// 8 rows; without a swizzle, rows 64, 128 or 256 bytes apart fall on the same banks. Storing
// logical chunk c of row r at physical chunk c ^ f(r) spreads any 8 consecutive rows over 8
// distinct 16-byte bank groups, for both the cp.async writes and the ldmatrix reads.
#pragma once
#include "common.cuh"

typedef unsigned short bf16_t;  // raw bits; conversions below

// Round to nearest even (cvt.rn). Finite values round exactly as copy.cu's f32_to_bf16_rne; a NaN
// becomes the canonical quiet NaN, which no consumer distinguishes from copy.cu's payload-keeping one.
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

__device__ __forceinline__ bf16_t to_bf16(float x) {
    return (bf16_t)(pack_bf16x2(x, 0.0f) & 0xffffu);
}

__device__ __forceinline__ float from_bf16(bf16_t b) {
    return __uint_as_float(((uint32_t)b) << 16);
}

__device__ __forceinline__ uint32_t smem_address(const void* p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}

// bytes = 0 zero-fills the destination and reads nothing: the predicated load of a tile edge.
__device__ __forceinline__ void cp_async_16(uint32_t dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}

__device__ __forceinline__ void cp_async_4(uint32_t dst, const void* src, int bytes) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}

// VEC bf16 elements (8: one 16-byte copy; 2: one 4-byte copy for operands whose rows are only
// 4-byte aligned), all valid or all zero-filled.
template <int VEC>
__device__ __forceinline__ void cp_async_vec(uint32_t dst, const bf16_t* src, bool valid) {
    if (VEC == 8) cp_async_16(dst, src, valid ? 16 : 0);
    else cp_async_4(dst, src, valid ? 4 : 0);
}

__device__ __forceinline__ void cp_async_commit() {
    asm volatile("cp.async.commit_group;\n" ::);
}

template <int PENDING>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t address) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(address));
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t address) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(address));
}

// d += a b, 16x8x16, bf16 inputs, f32 accumulators.
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                 "{%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Element offset of (row, col) in a swizzled [ROWS, COLS] bf16 tile; col's chunk is col / 8.
template <int COLS>
__device__ __forceinline__ int swizzled(int row, int col) {
    constexpr int CHUNKS = COLS / 8;
    static_assert(CHUNKS == 2 || CHUNKS == 4 || CHUNKS % 8 == 0, "tile rows must be 32, 64 or a multiple of 128 bytes");
    const int chunk = col >> 3;
    const int phys = CHUNKS == 2 ? chunk ^ ((row >> 2) & 1) : CHUNKS == 4 ? chunk ^ ((row >> 1) & 3) : chunk ^ (row & 7);
    return row * COLS + phys * 8 + (col & 7);
}

// Copies a [ROWS, COLS] tile whose element (r, c) is src[(row0 + r) * ld + col0 + c] into a
// swizzled shared tile, VEC elements per copy; rows >= rows_total or columns >= cols_total read
// as zero (cols_total is a multiple of VEC, so a copy is all in or all out). The caller commits.
template <int ROWS, int COLS, int VEC, int THREADS>
__device__ __forceinline__ void load_tile_async(bf16_t* tile, const bf16_t* src, i64 ld, int row0, int col0, int rows_total,
                                                int cols_total) {
    constexpr int PER_ROW = COLS / VEC, UNITS = ROWS * PER_ROW;
    const uint32_t base = smem_address(tile);
#pragma unroll
    for (int i = 0; i < (UNITS + THREADS - 1) / THREADS; i++) {
        const int u = threadIdx.x + i * THREADS;
        if (UNITS % THREADS != 0 && u >= UNITS) break;
        const int r = u / PER_ROW, c = (u % PER_ROW) * VEC;
        const int gr = row0 + r, gc = col0 + c;
        const bool valid = gr < rows_total && gc < cols_total;
        const bf16_t* p = valid ? src + (i64)gr * ld + gc : src;
        cp_async_vec<VEC>(base + 2 * swizzled<COLS>(r, c), p, valid);
    }
}
