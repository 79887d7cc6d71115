// softmax.cu: row-wise softmax (plain and with an attention key mask) and its backward.
//
// CPU reference: CpuBackend.softmaxForward / softmaxBackward; the masked variant is the softmax
// inside CpuBackend.attentionForward: keys with keyMask 0 get probability exactly 0, and a row
// whose keys are all masked is all zeros.
// Shapes: in, out [rows, cols]; keyMask [B, cols] I32, row r uses mask row r / rowsPerBatch
// (rowsPerBatch = H * T for scores [B, H, T, T]).
// Numerically safe: the row max is subtracted before exp. One warp per row, three passes over a
// row that stays in L1 (cols is T = 128..512 for attention).
// Forward overwrites (=). Backward: dIn (=|+=) scale * out * (dOut - sum(dOut * out)); it may
// run in place (dIn == dOut): each lane reads an element before it writes it, after the sum.
#include "common.cuh"

extern "C" __global__ void softmax_forward(float* out, const float* in, int rows, int cols) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int lane = threadIdx.x & 31;
    const float* x = in + (i64)row * cols;
    float* y = out + (i64)row * cols;
    float m = -INFINITY;
    for (int j = lane; j < cols; j += 32) m = fmaxf(m, x[j]);
    m = warp_max(m);
    float s = 0.0f;
    for (int j = lane; j < cols; j += 32) s += expf(x[j] - m);
    s = warp_sum(s);
    for (int j = lane; j < cols; j += 32) y[j] = expf(x[j] - m) / s;
}

extern "C" __global__ void softmax_forward_masked(float* out, const float* in, const int* keyMask, int rows,
                                                  int cols, int rowsPerBatch) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int lane = threadIdx.x & 31;
    const float* x = in + (i64)row * cols;
    const int* mask = keyMask + (i64)(row / rowsPerBatch) * cols;
    float* y = out + (i64)row * cols;
    float m = -INFINITY;
    for (int j = lane; j < cols; j += 32) {
        if (mask[j] != 0) m = fmaxf(m, x[j]);
    }
    m = warp_max(m);
    if (m == -INFINITY) {  // every key masked (or -inf scores): no probability mass anywhere
        for (int j = lane; j < cols; j += 32) y[j] = 0.0f;
        return;
    }
    float s = 0.0f;
    for (int j = lane; j < cols; j += 32) {
        if (mask[j] != 0) s += expf(x[j] - m);
    }
    s = warp_sum(s);
    for (int j = lane; j < cols; j += 32) y[j] = mask[j] != 0 ? expf(x[j] - m) / s : 0.0f;
}

extern "C" __global__ void softmax_backward(float* dIn, const float* dOut, const float* out, int rows, int cols,
                                            float scale, int accumulate) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int lane = threadIdx.x & 31;
    const i64 base = (i64)row * cols;
    float dot = 0.0f;
    for (int j = lane; j < cols; j += 32) dot += dOut[base + j] * out[base + j];
    dot = warp_sum(dot);
    for (int j = lane; j < cols; j += 32) {
        const float g = scale * out[base + j] * (dOut[base + j] - dot);
        dIn[base + j] = accumulate ? dIn[base + j] + g : g;
    }
}
