// adamw.cu: the AdamW update, one parameter or every parameter in one launch, and the squared
// global gradient norm over every parameter in one launch.
//
// CPU reference: CpuBackend.adamwStep; for the table kernels the Backend default methods
// gradSumSquares and adamwStepAll (per-tensor calls in table order):
//   g = grad * gradScale[];  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   param -= lr * ((m / bc1) / (sqrt(v / bc2) + eps) + weightDecay * param)
// with hyper[] = (bc1, bc2, lr) on the device (ELECTRA's official form has bc1 = bc2 = 1), so a
// captured CUDA graph replays a step without host arguments changing.
// Shapes: param, grad, m, v [n] F32; gradScale [1] (the clip factor); hyper [3].
// Overwrites (=) param, m and v in place.
// Mixed precision: the _bf16 update and the table's optional fifth row also write the updated
// param's bf16 copy (the weights the tensor-core GEMMs read) in the same pass, rounded exactly as
// copy_forward_f32_to_bf16 rounds, so no separate conversion launch touches the weights again.
// The table kernels: a table of tensors and chunks, so the whole model updates in one launch
// instead of one per tensor (ELECTRA-Small has 402 parameter tensors, and without the table its
// optimizer step was ~1200 launches): block b works on chunk b, chunkSize elements of one tensor.
// adamw_update_multi takes per tensor its weight decay (0 for biases and LayerNorm) and its row of
// hyper [3 * G] (one row per learning-rate group: layer-wise decay), and zeroes each gradient
// element right after reading it (=), so no fill pass per gradient follows. adamw_grad_sumsq_multi
// writes one partial per chunk (=); reduce_forward_finalize then sums them in a fixed order, so the
// norm has the same bits every run (no atomics).
#include "common.cuh"
#include "bf16.cuh"

__device__ __forceinline__ float adamw_element(float* p, const float* grad, float* m, float* v, i64 i, float scale,
                                               float bc1, float bc2, float lr, float beta1, float beta2, float eps,
                                               float weightDecay) {
    const float g = grad[i] * scale;
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float update = (mi / bc1) / (sqrtf(vi / bc2) + eps) + weightDecay * p[i];
    const float updated = p[i] - lr * update;
    p[i] = updated;
    return updated;
}

extern "C" __global__ void adamw_update(float* param, const float* grad, float* m, float* v, const float* gradScale,
                                        const float* hyper, float beta1, float beta2, float eps, float weightDecay,
                                        i64 n) {
    const float scale = gradScale[0], bc1 = hyper[0], bc2 = hyper[1], lr = hyper[2];
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        adamw_element(param, grad, m, v, i, scale, bc1, bc2, lr, beta1, beta2, eps, weightDecay);
    }
}

extern "C" __global__ void adamw_update_bf16(float* param, unsigned short* paramBf16, const float* grad, float* m, float* v,
                                             const float* gradScale, const float* hyper, float beta1, float beta2, float eps,
                                             float weightDecay, i64 n) {
    const float scale = gradScale[0], bc1 = hyper[0], bc2 = hyper[1], lr = hyper[2];
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        paramBf16[i] = f32_to_bf16_rne(adamw_element(param, grad, m, v, i, scale, bc1, bc2, lr, beta1, beta2, eps, weightDecay));
    }
}

// The table: pointers [5, T]: param, grad, m, v, bf16 copy (0: none) addresses per tensor;
// sizes [T]; chunkTensor [chunks], chunkStart [chunks]: block b works on elements
// [chunkStart[b], min(size, chunkStart[b] + chunkSize)) of tensor chunkTensor[b].

// partials[b] = sum of grad^2 over chunk b (grad: the table's second row).
extern "C" __global__ void adamw_grad_sumsq_multi(float* partials, const unsigned long long* pointers, const i64* sizes,
                                                  const int* chunkTensor, const i64* chunkStart, int tensors,
                                                  int chunkSize) {
    __shared__ float scratch[32];
    const int t = chunkTensor[blockIdx.x];
    const float* grad = (const float*)pointers[tensors + t];
    const i64 start = chunkStart[blockIdx.x];
    const i64 end = min(sizes[t], start + chunkSize);
    float acc = 0.0f;
    for (i64 i = start + threadIdx.x; i < end; i += blockDim.x) acc += grad[i] * grad[i];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// adamw_update on chunk b with tensor t's decay[t] and hyper row hyperRow[t]; then grad = 0.
extern "C" __global__ void adamw_update_multi(const unsigned long long* pointers, const i64* sizes,
                                              const float* decay, const int* hyperRow, const int* chunkTensor,
                                              const i64* chunkStart, int tensors, int chunkSize, const float* gradScale,
                                              const float* hyper, float beta1, float beta2, float eps) {
    const int t = chunkTensor[blockIdx.x];
    float* param = (float*)pointers[t];
    float* grad = (float*)pointers[tensors + t];
    float* m = (float*)pointers[2 * tensors + t];
    float* v = (float*)pointers[3 * tensors + t];
    unsigned short* copy = (unsigned short*)pointers[4 * tensors + t];
    const i64 start = chunkStart[blockIdx.x];
    const i64 end = min(sizes[t], start + chunkSize);
    const float* h = hyper + 3 * hyperRow[t];
    const float scale = gradScale[0], bc1 = h[0], bc2 = h[1], lr = h[2];
    const float wd = decay[t];
    for (i64 i = start + threadIdx.x; i < end; i += blockDim.x) {
        const float updated = adamw_element(param, grad, m, v, i, scale, bc1, bc2, lr, beta1, beta2, eps, wd);
        grad[i] = 0.0f;  // read above; zeroed in the same pass, ready for the next step's accumulation
        if (copy != nullptr) copy[i] = f32_to_bf16_rne(updated);
    }
}
