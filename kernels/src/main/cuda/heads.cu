// heads.cu: the attention layout changes [B, T, H*D] <-> [B, H, T, D], converting between f32 and
// bf16 on the way where the two sides differ.
//
// CPU reference: CpuBackend.splitHeads / mergeHeads.
// Shapes: split reads in [B, T, H*D] and writes out [B, H, T, D]; merge the reverse.
// Both overwrite (=) or, with accumulate != 0, add (+=) into out: the backward of a split is a
// merge that accumulates, and vice versa. The sum is taken in f32 and a bf16 out is rounded once
// (to nearest even, as copy.cu rounds).
// Entry points heads_forward_{split,merge}_<in>[_to_<out>]: _f32 and _bf16 keep the dtype;
// _f32_to_bf16 feeds bf16 attention from f32 projections (rounding as copy.cu), _bf16_to_f32 hands
// bf16 attention gradients back to f32 ones. Mixed precision then needs no separate conversion pass.
// One thread per output element; reads are contiguous in runs of D (64), so they coalesce.
//
// The _qkv entry points move one linear layer's query, key and value projections, [B, T, 3, H, D]
// (the query's H*D columns, then the key's, then the value's), to and from q, k, v [B, H, T, D] in one
// pass, where three splits and three merges each moved a third: split_qkv overwrites q, k and v,
// merge_qkv writes (=) or adds (+=) into the fused gradient. Same values as split/merge per third.
// One thread per fused element, so the fused side (read by split, read-modified-written by merge)
// coalesces fully and the head side in runs of D.
#include "common.cuh"
#include "bf16.cuh"

__device__ __forceinline__ float load_as_f32(const float* p, i64 i) { return p[i]; }
__device__ __forceinline__ float load_as_f32(const unsigned short* p, i64 i) { return __uint_as_float((uint32_t)p[i] << 16); }

__device__ __forceinline__ void store_f32_as(float* p, i64 i, float v) { p[i] = v; }
__device__ __forceinline__ void store_f32_as(unsigned short* p, i64 i, float v) { p[i] = f32_to_bf16_rne(v); }

// Index math runs in 32 bits whenever every index fits (always, at the model's sizes): a 64-bit
// division is a long software routine on the GPU, and the chain below would make these copies
// compute-bound. Unsigned, so i + stride cannot overflow while n <= 2^31 - 1.
__device__ __forceinline__ bool fits_32_bits(i64 n) { return n <= (i64)0x7fffffff; }

// out[i] (=|+=) in[source(i)] for every element i of out, split or merge.
template <bool SPLIT, typename Index, typename Out, typename In>
__device__ __forceinline__ void move_heads_indexed(Out* out, const In* in, Index B, Index T, Index H, Index D,
                                                   int accumulate) {
    const Index n = B * H * T * D;
    for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x) {
        const Index d = i % D, r = i / D;
        Index from;
        if (SPLIT) {  // i walks [B, H, T, D]
            const Index t = r % T, bh = r / T, h = bh % H, b = bh / H;
            from = ((b * T + t) * H + h) * D + d;
        } else {      // i walks [B, T, H, D]
            const Index h = r % H, bt = r / H, t = bt % T, b = bt / T;
            from = ((b * H + h) * T + t) * D + d;
        }
        const float v = load_as_f32(in, from);
        store_f32_as(out, i, accumulate ? load_as_f32(out, i) + v : v);
    }
}

template <bool SPLIT, typename Out, typename In>
__device__ __forceinline__ void move_heads(Out* out, const In* in, int B, int T, int H, int D, int accumulate) {
    if (fits_32_bits((i64)B * H * T * D)) move_heads_indexed<SPLIT, unsigned>(out, in, B, T, H, D, accumulate);
    else move_heads_indexed<SPLIT, i64>(out, in, B, T, H, D, accumulate);
}

// fused[i] (i walks [B, T, 3, H, D]) to (SPLIT) or from element `at` of q, k or v (part 0, 1, 2);
// only a merge accumulates. The const side is the one read.
template <bool SPLIT, typename Index, typename Fused, typename Heads>
__device__ __forceinline__ void move_heads_qkv_indexed(Fused* fused, Heads* q, Heads* k, Heads* v, Index B, Index T,
                                                       Index H, Index D, int accumulate) {
    const Index n = B * T * 3 * H * D;
    for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x) {
        const Index d = i % D, r = i / D, h = r % H, r2 = r / H;
        const Index part = r2 % 3, bt = r2 / 3, t = bt % T, b = bt / T;
        const Index at = ((b * H + h) * T + t) * D + d;
        Heads* heads = part == 0 ? q : part == 1 ? k : v;
        if constexpr (SPLIT) {
            store_f32_as(heads, at, load_as_f32(fused, i));
        } else {
            const float g = load_as_f32(heads, at);
            store_f32_as(fused, i, accumulate ? load_as_f32(fused, i) + g : g);
        }
    }
}

template <bool SPLIT, typename Fused, typename Heads>
__device__ __forceinline__ void move_heads_qkv(Fused* fused, Heads* q, Heads* k, Heads* v, int B, int T, int H, int D,
                                               int accumulate) {
    if (fits_32_bits((i64)B * T * 3 * H * D)) {
        move_heads_qkv_indexed<SPLIT, unsigned>(fused, q, k, v, B, T, H, D, accumulate);
    } else {
        move_heads_qkv_indexed<SPLIT, i64>(fused, q, k, v, B, T, H, D, accumulate);
    }
}

extern "C" __global__ void heads_forward_split_f32(float* out, const float* in, int B, int T, int H, int D, int accumulate) {
    move_heads<true>(out, in, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_split_bf16(unsigned short* out, const unsigned short* in, int B, int T, int H, int D, int accumulate) {
    move_heads<true>(out, in, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_split_f32_to_bf16(unsigned short* out, const float* in, int B, int T, int H, int D, int accumulate) {
    move_heads<true>(out, in, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_split_bf16_to_f32(float* out, const unsigned short* in, int B, int T, int H, int D, int accumulate) {
    move_heads<true>(out, in, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_merge_f32(float* out, const float* in, int B, int T, int H, int D, int accumulate) {
    move_heads<false>(out, in, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_merge_bf16(unsigned short* out, const unsigned short* in, int B, int T, int H, int D, int accumulate) {
    move_heads<false>(out, in, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_merge_f32_to_bf16(unsigned short* out, const float* in, int B, int T, int H, int D, int accumulate) {
    move_heads<false>(out, in, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_merge_bf16_to_f32(float* out, const unsigned short* in, int B, int T, int H, int D, int accumulate) {
    move_heads<false>(out, in, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_split_qkv_f32(float* q, float* k, float* v, const float* in, int B, int T, int H, int D) {
    move_heads_qkv<true>(in, q, k, v, B, T, H, D, 0);
}

extern "C" __global__ void heads_forward_split_qkv_bf16(unsigned short* q, unsigned short* k, unsigned short* v, const unsigned short* in, int B, int T, int H, int D) {
    move_heads_qkv<true>(in, q, k, v, B, T, H, D, 0);
}

extern "C" __global__ void heads_forward_split_qkv_f32_to_bf16(unsigned short* q, unsigned short* k, unsigned short* v, const float* in, int B, int T, int H, int D) {
    move_heads_qkv<true>(in, q, k, v, B, T, H, D, 0);
}

extern "C" __global__ void heads_forward_split_qkv_bf16_to_f32(float* q, float* k, float* v, const unsigned short* in, int B, int T, int H, int D) {
    move_heads_qkv<true>(in, q, k, v, B, T, H, D, 0);
}

extern "C" __global__ void heads_forward_merge_qkv_f32(float* out, const float* dq, const float* dk, const float* dv, int B, int T, int H, int D, int accumulate) {
    move_heads_qkv<false>(out, dq, dk, dv, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_merge_qkv_bf16(unsigned short* out, const unsigned short* dq, const unsigned short* dk, const unsigned short* dv, int B, int T, int H, int D, int accumulate) {
    move_heads_qkv<false>(out, dq, dk, dv, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_merge_qkv_f32_to_bf16(unsigned short* out, const float* dq, const float* dk, const float* dv, int B, int T, int H, int D, int accumulate) {
    move_heads_qkv<false>(out, dq, dk, dv, B, T, H, D, accumulate);
}

extern "C" __global__ void heads_forward_merge_qkv_bf16_to_f32(float* out, const unsigned short* dq, const unsigned short* dk, const unsigned short* dv, int B, int T, int H, int D, int accumulate) {
    move_heads_qkv<false>(out, dq, dk, dv, B, T, H, D, accumulate);
}
