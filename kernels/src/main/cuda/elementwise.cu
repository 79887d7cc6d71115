// elementwise.cu: bias add, weighted add, scale, exact-erf GELU, fused bias+GELU, bias gradient,
// and a linear layer's output gradient made ready for its GEMMs.
//
// CPU reference: the Backend methods biasAdd, biasBackward, add, accumulate, scale, geluForward,
// geluBackward and linearOutputGrad of io.electra.engine.cpu.CpuBackend.
// Shapes: n elements; bias kernels see the tensor as [N, C] rows and a bias [C].
// Forward kernels overwrite (=) and may run in place; elementwise_backward_gelu accumulates (+=);
// elementwise_backward_bias(_bf16) writes per-block column partials that reduce_forward_columns adds
// (+=) into dBias in a fixed order, so the bias gradient is deterministic (no float atomics).
// elementwise_backward_linear_grad_{f32,bf16} overwrite (=) gradOut and write such partials.
// Grid-stride loops: the launcher caps the grid, so one configuration serves every size.
#include "common.cuh"
#include "bf16.cuh"
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

__device__ __forceinline__ float widen(float x) { return x; }
__device__ __forceinline__ float widen(unsigned short x) { return __uint_as_float((uint32_t)x << 16); }

// partials[g, c] = sum of dOut[r, c] over the rows r of chunk g = blockIdx.x, in row order.
// Grid (chunks, ceil(C / blockDim.x)); chunk g holds rows [g * rowsPerChunk, ...).
template <typename In>
__device__ __forceinline__ void bias_partials(float* partials, const In* dOut, int rows, int C, int rowsPerChunk) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int r0 = blockIdx.x * rowsPerChunk;
    const int r1 = min(rows, r0 + rowsPerChunk);
    float acc = 0.0f;
    for (int r = r0; r < r1; r++) acc += widen(dOut[(i64)r * C + c]);
    partials[(i64)blockIdx.x * C + c] = acc;
}

extern "C" __global__ void elementwise_backward_bias(float* partials, const float* dOut, int rows, int C,
                                                     int rowsPerChunk) {
    bias_partials(partials, dOut, rows, C, rowsPerChunk);
}

// A BF16 dOut (mixed precision's attention gradients of the fused projection), widened exactly.
extern "C" __global__ void elementwise_backward_bias_bf16(float* partials, const unsigned short* dOut, int rows, int C,
                                                          int rowsPerChunk) {
    bias_partials(partials, dOut, rows, C, rowsPerChunk);
}

__device__ __forceinline__ void store_grad(float* p, i64 i, float v) { p[i] = v; }
__device__ __forceinline__ void store_grad(unsigned short* p, i64 i, float v) { p[i] = f32_to_bf16_rne(v); }

// g = dOut (* gelu'(pre) where pre is not null); gradOut = g, a bf16 one rounded once; partials (when
// not null) as elementwise_backward_bias's, of g. One pass instead of GELU backward into zeros, the
// copy to bf16 and the bias gradient, each reading [N, C] again. __fmul_rn: the product is rounded
// before the sum, as the stored g is (no contraction into an fma with acc).
template <typename Out>
__device__ __forceinline__ void linear_grad(Out* gradOut, float* partials, const float* dOut, const float* pre,
                                            int rows, int C, int rowsPerChunk) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int r0 = blockIdx.x * rowsPerChunk;
    const int r1 = min(rows, r0 + rowsPerChunk);
    float acc = 0.0f;
    for (int r = r0; r < r1; r++) {
        const i64 i = (i64)r * C + c;
        const float g = pre ? __fmul_rn(dOut[i], gelu_grad(pre[i])) : dOut[i];
        store_grad(gradOut, i, g);
        acc += g;
    }
    if (partials) partials[(i64)blockIdx.x * C + c] = acc;
}

// Grid (chunks, ceil(C / blockDim.x)), chunk g holding rows [g * rowsPerChunk, ...); pre and partials may be null.
extern "C" __global__ void elementwise_backward_linear_grad_f32(float* gradOut, float* partials, const float* dOut,
                                                                const float* pre, int rows, int C, int rowsPerChunk) {
    linear_grad(gradOut, partials, dOut, pre, rows, C, rowsPerChunk);
}

extern "C" __global__ void elementwise_backward_linear_grad_bf16(unsigned short* gradOut, float* partials,
                                                                 const float* dOut, const float* pre, int rows, int C,
                                                                 int rowsPerChunk) {
    linear_grad(gradOut, partials, dOut, pre, rows, C, rowsPerChunk);
}
