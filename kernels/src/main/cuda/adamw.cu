// adamw.cu: the AdamW update, one parameter or every parameter in one launch.
//
// CPU reference: CpuBackend.adamwStep:
//   g = grad * gradScale[];  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   param -= lr * ((m / bc1) / (sqrt(v / bc2) + eps) + weightDecay * param)
// with hyper[] = (bc1, bc2, lr) on the device (ELECTRA's official form has bc1 = bc2 = 1), so a
// captured CUDA graph replays a step without host arguments changing.
// Shapes: param, grad, m, v [n] F32; gradScale [1] (the clip factor); hyper [3].
// Overwrites (=) param, m and v in place.
// Mixed precision: the _bf16 update and the table's optional fifth row also write the updated
// param's bf16 copy (the weights the tensor-core GEMMs read) in the same pass, rounded exactly as
// copy_forward_f32_to_bf16 rounds, so no separate conversion launch touches the weights again.
// adamw_update_multi: a table of tensors and chunks, so the whole model updates in one launch
// instead of ~200 (ELECTRA-Base has 200 parameter tensors): blocks map to chunks of chunkSize
// elements of one tensor. Per-tensor weight decay (0 for biases and LayerNorm) is in the table.
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

// pointers [5, T]: param, grad, m, v, bf16 copy (0: none) addresses per tensor; sizes [T]; decay [T];
// chunkTensor [chunks], chunkStart [chunks]: block b updates elements
// [chunkStart[b], min(size, chunkStart[b] + chunkSize)) of tensor chunkTensor[b].
extern "C" __global__ void adamw_update_multi(const unsigned long long* pointers, const i64* sizes,
                                              const float* decay, const int* chunkTensor, const i64* chunkStart,
                                              int tensors, int chunkSize, const float* gradScale, const float* hyper,
                                              float beta1, float beta2, float eps) {
    const int t = chunkTensor[blockIdx.x];
    float* param = (float*)pointers[t];
    const float* grad = (const float*)pointers[tensors + t];
    float* m = (float*)pointers[2 * tensors + t];
    float* v = (float*)pointers[3 * tensors + t];
    unsigned short* copy = (unsigned short*)pointers[4 * tensors + t];
    const i64 start = chunkStart[blockIdx.x];
    const i64 end = min(sizes[t], start + chunkSize);
    const float scale = gradScale[0], bc1 = hyper[0], bc2 = hyper[1], lr = hyper[2];
    const float wd = decay[t];
    for (i64 i = start + threadIdx.x; i < end; i += blockDim.x) {
        const float updated = adamw_element(param, grad, m, v, i, scale, bc1, bc2, lr, beta1, beta2, eps, wd);
        if (copy != nullptr) copy[i] = f32_to_bf16_rne(updated);
    }
}
