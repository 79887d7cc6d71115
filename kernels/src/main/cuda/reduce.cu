// reduce.cu: deterministic reductions: sum, sum of squares, masked counts, column sums, and the
// gradient-clipping factor.
//
// CPU reference: CpuBackend.sum, sumBackward, sumSquaresAccumulate, clipFactor; the loss kernels
// (crossentropy, bce, mse) and the bias/LayerNorm parameter gradients finish here.
// Two stages instead of float atomics: reduce_forward_partial gives each block a fixed slice of
// the input (the slicing depends on n and the grid only), then reduce_forward_finalize sums the
// block partials in one block. Same input, same bits, every run.
// Shapes: in [n] flat; partials [G]; column partials [G, stride] with C used columns.
// += vs =: finalize and columns take an accumulate flag; reduce_backward_sum accumulates (+=).
#include "common.cuh"

// partials[b] = sum over block b's slice of in (squares != 0: of in^2).
extern "C" __global__ void reduce_forward_partial(float* partials, const float* in, i64 n, int squares) {
    __shared__ float scratch[32];
    const i64 per = (n + gridDim.x - 1) / gridDim.x;
    const i64 start = blockIdx.x * per;
    const i64 end = min(n, start + per);
    float acc = 0.0f;
    for (i64 i = start + threadIdx.x; i < end; i += blockDim.x) {
        const float x = in[i];
        acc += squares ? x * x : x;
    }
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// out[0] (=|+=) alpha * sum(partials[0..G)) / divisor[0], one block. divisor may be null
// (then 1); a zero divisor (no selected rows) gives 0 rather than NaN.
extern "C" __global__ void reduce_forward_finalize(float* out, const float* partials, int G, float alpha,
                                                   int accumulate, const float* divisor) {
    __shared__ float scratch[32];
    float acc = 0.0f;
    for (int i = threadIdx.x; i < G; i += blockDim.x) acc += partials[i];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) {
        float v = alpha * acc;
        if (divisor != nullptr) {
            const float d = divisor[0];
            v = d > 0.0f ? v / d : 0.0f;
        }
        out[0] = accumulate ? out[0] + v : v;
    }
}

// Column sums of per-chunk partials, the second stage of every bias and LayerNorm parameter
// gradient: out_s[c] (=|+=) sum over g of partials[g * stride + s * C + c], for the S <= 3 segments
// of a partial row (a LayerNorm tail's dWeight, dBias and its linear's bias: one launch, not three).
// A block is 32 columns x COLUMN_LANES lanes; lane l sums groups l, l + COLUMN_LANES, ... in order,
// then lane 0 adds the lane sums in lane order: the same bits every run. Each thread makes G /
// COLUMN_LANES loads instead of G, which matters: G is rows / 32 (512 at 16384 rows), and a loop of
// dependent L2 round trips that long would cost more than the kernel whose partials it sums.
#define COLUMN_LANES 16
extern "C" __global__ void reduce_forward_columns(float* out0, float* out1, float* out2, const float* partials, int G,
                                                  int C, int S, int stride, int accumulate) {
    __shared__ float lanes[COLUMN_LANES][32];
    const int x = threadIdx.x & 31, lane = threadIdx.x >> 5;
    const int j = blockIdx.x * 32 + x;  // column of the partial row, in [0, S * C)
    const bool live = j < S * C;
    float acc = 0.0f;
    if (live) {
        for (int g = lane; g < G; g += COLUMN_LANES) acc += partials[(i64)g * stride + j];
    }
    lanes[lane][x] = acc;
    __syncthreads();
    if (lane != 0 || !live) return;
    float sum = lanes[0][x];
    for (int l = 1; l < COLUMN_LANES; l++) sum += lanes[l][x];
    const int s = j / C, c = j - s * C;
    float* out = s == 0 ? out0 : s == 1 ? out1 : out2;
    out[c] = accumulate ? out[c] + sum : sum;
}

// out[0] = number of i with in[i] >= 0 (predicate 0: valid targets) or in[i] != 0 (predicate 1:
// mask set), as a float. One block.
extern "C" __global__ void reduce_forward_count(float* out, const int* in, int n, int predicate) {
    __shared__ float scratch[32];
    float acc = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const int x = in[i];
        acc += (predicate == 0 ? x >= 0 : x != 0) ? 1.0f : 0.0f;
    }
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) out[0] = acc;
}

// dIn[i] += alpha * dOut[0].
extern "C" __global__ void reduce_backward_sum(float* dIn, const float* dOut, float alpha, i64 n) {
    const float g = alpha * dOut[0];
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        dIn[i] += g;
    }
}

// scale[0] = min(1, maxNorm / (sqrt(sumSquares[0]) + 1e-6)). One thread.
extern "C" __global__ void reduce_forward_clip(float* scale, const float* sumSquares, float maxNorm) {
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        scale[0] = fminf(1.0f, maxNorm / (sqrtf(sumSquares[0]) + 1e-6f));
    }
}
