// layernorm.cu: row-wise LayerNorm, its residual-fused variant, and its backward.
//
// CPU reference: CpuBackend.layerNormForward / layerNormBackward (two-pass variance, biased,
// rstd = 1 / sqrt(var + eps)); layernorm_forward_residual equals add(res, a, 1, b, 1) followed by
// layerNormForward(out, ..., res, ...).
// Shapes: in, out [rows, C]; weight, bias [C]; mean, rstd [rows] (fp32 statistics).
// One warp per row: C is 256 (Small) or 768 (Base), so a warp streams a row in 8 or 24 loads
// per lane and the reductions never touch shared memory. Two passes for the variance, as the
// CPU does: the row is in L1 for the second pass, and E[x^2] - E[x]^2 would cancel badly.
// Forward overwrites (=). Backward accumulates (+=) into dIn directly and writes per-chunk
// column partials for dWeight and dBias ([chunks, 2C]: dWeight then dBias) that
// reduce_forward_columns adds (+=) in chunk order: deterministic, no float atomics.
#include "common.cuh"

__device__ __forceinline__ void layernorm_row(float* out, float* mean, float* rstd, const float* x,
                                              const float* weight, const float* bias, int row, int C, float eps) {
    const int lane = threadIdx.x & 31;
    float s = 0.0f;
    for (int j = lane; j < C; j += 32) s += x[j];
    const float m = warp_sum(s) / C;
    float v = 0.0f;
    for (int j = lane; j < C; j += 32) {
        const float d = x[j] - m;
        v += d * d;
    }
    const float r = rsqrtf(warp_sum(v) / C + eps);
    for (int j = lane; j < C; j += 32) out[j] = (x[j] - m) * r * weight[j] + bias[j];
    if (lane == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
}

extern "C" __global__ void layernorm_forward(float* out, float* mean, float* rstd, const float* in,
                                             const float* weight, const float* bias, int rows, int C, float eps) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const i64 base = (i64)row * C;
    layernorm_row(out + base, mean, rstd, in + base, weight, bias, row, C, eps);
}

// res = a + b (the residual stream, written for the next block), out = LayerNorm(res).
extern "C" __global__ void layernorm_forward_residual(float* out, float* res, float* mean, float* rstd,
                                                      const float* a, const float* b, const float* weight,
                                                      const float* bias, int rows, int C, float eps) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const i64 base = (i64)row * C;
    const int lane = threadIdx.x & 31;
    // Each lane reads back only what it wrote itself, so no synchronisation is needed.
    for (int j = lane; j < C; j += 32) res[base + j] = a[base + j] + b[base + j];
    layernorm_row(out + base, mean, rstd, res + base, weight, bias, row, C, eps);
}

// Block g owns rows [g * rowsPerChunk, ...): its warps compute dIn row by row, then its threads
// walk the same rows column-wise for the dWeight/dBias partials (the rows are still in L1/L2).
extern "C" __global__ void layernorm_backward(float* dIn, float* partials, const float* dOut, const float* in,
                                              const float* mean, const float* rstd, const float* weight,
                                              int rows, int C, int rowsPerChunk) {
    const int warps = blockDim.x >> 5, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int r0 = blockIdx.x * rowsPerChunk;
    const int r1 = min(rows, r0 + rowsPerChunk);
    for (int row = r0 + warp; row < r1; row += warps) {
        const i64 base = (i64)row * C;
        const float m = mean[row], r = rstd[row];
        float sg = 0.0f, sgx = 0.0f;
        for (int j = lane; j < C; j += 32) {
            const float g = dOut[base + j] * weight[j];
            sg += g;
            sgx += g * (in[base + j] - m) * r;
        }
        const float meanG = warp_sum(sg) / C;
        const float meanGx = warp_sum(sgx) / C;
        for (int j = lane; j < C; j += 32) {
            const float g = dOut[base + j] * weight[j];
            const float xhat = (in[base + j] - m) * r;
            dIn[base + j] += r * (g - meanG - xhat * meanGx);
        }
    }
    float* pw = partials + (i64)blockIdx.x * 2 * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float dw = 0.0f, db = 0.0f;
        for (int row = r0; row < r1; row++) {
            const float d = dOut[(i64)row * C + c];
            dw += d * (in[(i64)row * C + c] - mean[row]) * rstd[row];
            db += d;
        }
        pw[c] = dw;
        pw[C + c] = db;
    }
}
