// elementwise.cu: bias add, weighted add, scale, exact-erf GELU, fused bias+GELU, bias gradient.
//
// CPU reference: the Backend methods biasAdd, biasBackward, add, accumulate, scale, geluForward
// and geluBackward of io.electra.engine.cpu.CpuBackend.
// Shapes: n elements; bias kernels see the tensor as [N, C] rows and a bias [C].
// Forward kernels overwrite (=) and may run in place; elementwise_backward_gelu accumulates (+=);
// elementwise_backward_bias writes per-block column partials that reduce_forward_columns adds
// (+=) into dBias in a fixed order, so the bias gradient is deterministic (no float atomics).
// Grid-stride loops: the launcher caps the grid, so one configuration serves every size.
#include "common.cuh"
#include "gelu.cuh"

// out[n, c] = in[n, c] + bias[c]; out may be in.
extern "C" __global__ void elementwise_forward_bias(float* out, const float* in, const float* bias, i64 n, int C) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        out[i] = in[i] + bias[i % C];
    }
}

// out = alpha * a + beta * b; out may alias a or b (accumulate is out = 1 * out + alpha * src).
extern "C" __global__ void elementwise_forward_add(float* out, const float* a, float alpha, const float* b,
                                                   float beta, i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        out[i] = alpha * a[i] + beta * b[i];
    }
}

// out = s * in; out may be in.
extern "C" __global__ void elementwise_forward_scale(float* out, const float* in, float s, i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        out[i] = s * in[i];
    }
}

// out = gelu(in); out may be in.
extern "C" __global__ void elementwise_forward_gelu(float* out, const float* in, i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        out[i] = gelu(in[i]);
    }
}

// dIn += dOut * gelu'(in).
extern "C" __global__ void elementwise_backward_gelu(float* dIn, const float* dOut, const float* in, i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        dIn[i] += dOut[i] * gelu_grad(in[i]);
    }
}

// out[n, c] = gelu(in[n, c] + bias[c]): the FFN's first linear layer and its activation in one
// pass over memory instead of two. out may be in.
extern "C" __global__ void elementwise_forward_bias_gelu(float* out, const float* in, const float* bias, i64 n,
                                                         int C) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        out[i] = gelu(in[i] + bias[i % C]);
    }
}

// partials[g, c] = sum of dOut[r, c] over the rows r of chunk g = blockIdx.x, in row order.
// Grid (chunks, ceil(C / blockDim.x)); chunk g holds rows [g * rowsPerChunk, ...).
extern "C" __global__ void elementwise_backward_bias(float* partials, const float* dOut, int rows, int C,
                                                     int rowsPerChunk) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int r0 = blockIdx.x * rowsPerChunk;
    const int r1 = min(rows, r0 + rowsPerChunk);
    float acc = 0.0f;
    for (int r = r0; r < r1; r++) acc += dOut[(i64)r * C + c];
    partials[(i64)blockIdx.x * C + c] = acc;
}
