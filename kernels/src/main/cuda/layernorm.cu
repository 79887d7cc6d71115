// layernorm.cu: row-wise LayerNorm, its residual-fused variant, and its backward.
//
// CPU reference: CpuBackend.layerNormForward / layerNormBackward (two-pass variance, biased,
// rstd = 1 / sqrt(var + eps)) and dropoutAddLayerNormForward / dropoutAddLayerNormBackward (the
// post-LN block's dropout, residual add and LayerNorm in one pass each way).
// Shapes: in, out [rows, C]; weight, bias [C]; mean, rstd [rows] (fp32 statistics).
// One warp per row: C is 256 (Small) or 768 (Base), so a warp streams a row in 8 or 24 loads
// per lane and the reductions never touch shared memory. Two passes for the variance, as the
// CPU does: the row is in L1 for the second pass, and E[x^2] - E[x]^2 would cancel badly.
// Forward overwrites (=). Backward accumulates (+=) into dIn directly and writes per-chunk
// column partials for dWeight and dBias ([chunks, 2C]: dWeight then dBias; [chunks, 3C] with a linear
// layer's bias third in the _linear variant) that reduce_forward_columns adds (+=) in chunk order:
// deterministic, no float atomics.
#include "common.cuh"
#include "bf16.cuh"
#include "philox.cuh"

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

// The tail of a post-LN block: sum = dropout(x) + residual (the value the backward reads),
// out = LayerNorm(sum). One warp per row; lane l takes 4 consecutive elements at a time
// (j = 128 k + 4 l + t), so one Philox block serves a group whenever C % 4 == 0, and each lane
// reads back only the sums it wrote itself (no warp barrier). __fmul_rn/__fadd_rn stop the
// compiler from contracting x * keep + residual into an fma: the CPU rounds the product first.
// p = 0 is no dropout (the key is then unused). outBf16, when not null, receives out rounded to bf16
// (as copy.cu rounds it): the next mixed-precision GEMMs' operand, without a pass of its own.
extern "C" __global__ void layernorm_forward_dropout_residual(float* out, unsigned short* outBf16, float* sum, float* mean, float* rstd,
                                                              const float* x, const float* residual,
                                                              const float* weight, const float* bias, int rows, int C,
                                                              float eps, float p, float scale, uint32_t k0,
                                                              uint32_t k1, uint32_t step, uint32_t purpose,
                                                              const int64_t* step_offset) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const i64 base = (i64)row * C;
    const int lane = threadIdx.x & 31;
    const PhiloxKey key = philox_key(k0, k1, step, purpose, step_offset);
    KeepCache cache = {~0ull, make_uint4(0, 0, 0, 0)};
    float s = 0.0f;
    for (int j0 = 4 * lane; j0 < C; j0 += 128) {
        for (int j = j0; j < min(C, j0 + 4); j++) {
            const i64 i = base + j;
            const float kept = p > 0.0f ? __fmul_rn(x[i], keep_factor(cache, i, key, p, scale)) : x[i];
            const float v = __fadd_rn(kept, residual[i]);
            sum[i] = v;
            s += v;
        }
    }
    const float m = warp_sum(s) / C;
    float var = 0.0f;
    for (int j0 = 4 * lane; j0 < C; j0 += 128) {
        for (int j = j0; j < min(C, j0 + 4); j++) {
            const float d = sum[base + j] - m;
            var += d * d;
        }
    }
    const float r = rsqrtf(warp_sum(var) / C + eps);
    for (int j0 = 4 * lane; j0 < C; j0 += 128) {
        for (int j = j0; j < min(C, j0 + 4); j++) {
            const float o = (sum[base + j] - m) * r * weight[j] + bias[j];
            out[base + j] = o;
            if (outBf16 != nullptr) outBf16[base + j] = f32_to_bf16_rne(o);
        }
    }
    if (lane == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
}

// The backward's row means of g = dOut * weight and of g * xhat, xhat = (in - m) * r, for one
// warp's row (every lane gets both).
__device__ __forceinline__ float2 layernorm_row_grad_means(const float* dOut, const float* in, const float* weight,
                                                          float m, float r, int C) {
    const int lane = threadIdx.x & 31;
    float sg = 0.0f, sgx = 0.0f;
    for (int j = lane; j < C; j += 32) {
        const float g = dOut[j] * weight[j];
        sg += g;
        sgx += g * (in[j] - m) * r;
    }
    return make_float2(warp_sum(sg) / C, warp_sum(sgx) / C);
}

// Block g's partials (dWeight in [0, C), dBias in [C, 2C) of its row of `stride` floats) over its rows
// [r0, r1): the threads walk the rows column-wise, in row order, while they are still in L1/L2.
__device__ __forceinline__ void layernorm_param_partials(float* partials, int stride, const float* dOut, const float* in,
                                                         const float* mean, const float* rstd, int r0, int r1, int C) {
    float* pw = partials + (i64)blockIdx.x * stride;
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
        const float2 means = layernorm_row_grad_means(dOut + base, in + base, weight, m, r, C);
        const float meanG = means.x, meanGx = means.y;
        for (int j = lane; j < C; j += 32) {
            const float g = dOut[base + j] * weight[j];
            const float xhat = (in[base + j] - m) * r;
            dIn[base + j] += r * (g - meanG - xhat * meanGx);
        }
    }
    layernorm_param_partials(partials, 2 * C, dOut, in, mean, rstd, r0, r1, C);
}

// Most 4-element groups a lane owns in a row of the _linear variant: C <= 4 * 32 * LINEAR_GROUPS = 1024.
#define LINEAR_GROUPS 8

// The backward of layernorm_forward_dropout_residual: dSum as layernorm_backward computes dIn,
// never stored: dResidual (=|+=) dSum and dX (=|+=) dSum * keep, each overwritten unless its
// accumulate flag is set, either skipped when null. Same chunks as layernorm_backward; lanes take the
// 4-element groups of the forward for the mask, so lane l owns the same columns in every row.
// LINEAR: x is a linear layer's output, and its gradient is made ready for that layer here: dX is
// overwritten, as bf16 (rounded once) when dXBf16, and the chunk's column sums of the f32 dX values
// (the linear's bias gradient) go to partials [2C, 3C) of the chunk's 3C: each lane sums its columns
// over its warp's rows in registers, then the warps add theirs in warp order through shared memory.
template <bool LINEAR>
__device__ __forceinline__ void backward_dropout_residual(void* dX, int accumulateX, bool dXBf16, float* dResidual,
                                                          int accumulateResidual, float* partials, const float* dOut,
                                                          const float* sum, const float* mean, const float* rstd,
                                                          const float* weight, int rows, int C, int rowsPerChunk, float p,
                                                          float scale, PhiloxKey key) {
    const int warps = blockDim.x >> 5, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int r0 = blockIdx.x * rowsPerChunk;
    const int r1 = min(rows, r0 + rowsPerChunk);
    float colSum[LINEAR ? LINEAR_GROUPS : 1][4] = {};  // indexed only where LINEAR
    for (int row = r0 + warp; row < r1; row += warps) {
        const i64 base = (i64)row * C;
        const float m = mean[row], r = rstd[row];
        const float2 means = layernorm_row_grad_means(dOut + base, sum + base, weight, m, r, C);
        const float meanG = means.x, meanGx = means.y;
        KeepCache cache = {~0ull, make_uint4(0, 0, 0, 0)};
        const int groups = LINEAR ? LINEAR_GROUPS : (C + 127) / 128;  // LINEAR: a constant, so colSum stays in registers
#pragma unroll 8  // LINEAR_GROUPS
        for (int k = 0; k < groups; k++) {
            const int j0 = 4 * lane + 128 * k;
            if (j0 >= C) break;
#pragma unroll
            for (int t = 0; t < 4; t++) {
                const int j = j0 + t;
                if (j >= C) break;
                const i64 i = base + j;
                const float g = dOut[i] * weight[j];
                const float xhat = (sum[i] - m) * r;
                const float d = __fmul_rn(r, g - meanG - xhat * meanGx);  // rounded before any add, as the CPU
                if (dResidual != nullptr) dResidual[i] = accumulateResidual ? dResidual[i] + d : d;
                if (dX == nullptr) continue;
                const float dx = p > 0.0f ? __fmul_rn(d, keep_factor(cache, i, key, p, scale)) : d;
                if constexpr (LINEAR) {
                    if (dXBf16) ((unsigned short*)dX)[i] = f32_to_bf16_rne(dx);
                    else ((float*)dX)[i] = dx;
                    colSum[k][t] += dx;
                } else {
                    float* out = (float*)dX;
                    out[i] = accumulateX ? out[i] + dx : dx;
                }
            }
        }
    }
    layernorm_param_partials(partials, LINEAR ? 3 * C : 2 * C, dOut, sum, mean, rstd, r0, r1, C);
    if constexpr (LINEAR) {
        __shared__ float columns[4 * 32 * LINEAR_GROUPS];
        for (int w = 0; w < warps; w++) {  // warp order: the same sums every run
            if (warp == w) {
#pragma unroll
                for (int k = 0; k < LINEAR_GROUPS; k++) {
#pragma unroll
                    for (int t = 0; t < 4; t++) {
                        const int j = 4 * lane + 128 * k + t;
                        if (j < C) columns[j] = w == 0 ? colSum[k][t] : columns[j] + colSum[k][t];
                    }
                }
            }
            __syncthreads();
        }
        for (int c = threadIdx.x; c < C; c += blockDim.x) partials[(i64)blockIdx.x * 3 * C + 2 * C + c] = columns[c];
    }
}

extern "C" __global__ void layernorm_backward_dropout_residual(float* dX, int accumulateX, float* dResidual,
                                                               int accumulateResidual, float* partials,
                                                               const float* dOut, const float* sum,
                                                               const float* mean, const float* rstd,
                                                               const float* weight, int rows, int C,
                                                               int rowsPerChunk, float p, float scale, uint32_t k0,
                                                               uint32_t k1, uint32_t step, uint32_t purpose,
                                                               const int64_t* step_offset) {
    backward_dropout_residual<false>(dX, accumulateX, false, dResidual, accumulateResidual, partials, dOut, sum, mean, rstd,
                                     weight, rows, C, rowsPerChunk, p, scale,
                                     philox_key(k0, k1, step, purpose, step_offset));
}

// x is a linear layer's output (C <= 1024): dX overwritten (bf16 when dXBf16), partials [chunks, 3C] with
// the linear's bias partials in [2C, 3C).
extern "C" __global__ void layernorm_backward_dropout_residual_linear(void* dX, int dXBf16, float* dResidual,
                                                                      int accumulateResidual, float* partials,
                                                                      const float* dOut, const float* sum,
                                                                      const float* mean, const float* rstd,
                                                                      const float* weight, int rows, int C,
                                                                      int rowsPerChunk, float p, float scale,
                                                                      uint32_t k0, uint32_t k1, uint32_t step,
                                                                      uint32_t purpose, const int64_t* step_offset) {
    backward_dropout_residual<true>(dX, 0, dXBf16 != 0, dResidual, accumulateResidual, partials, dOut, sum, mean, rstd,
                                    weight, rows, C, rowsPerChunk, p, scale,
                                    philox_key(k0, k1, step, purpose, step_offset));
}
