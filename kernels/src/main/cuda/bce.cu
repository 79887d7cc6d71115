// bce.cu: binary cross-entropy with logits under a mask (the discriminator's replaced-token loss).
//
// CPU reference: CpuBackend.bceWithLogitsForward / bceWithLogitsBackward.
// Shapes: logits, labels [N] F32, mask [N] I32; elemLoss [N] (0 where mask is 0) which
// reduce.cu averages over the count of mask != 0 into loss[].
// Stable form: max(x, 0) - x y + log1p(exp(-|x|)), no overflow for any x.
// Forward overwrites (=) elemLoss. Backward accumulates (+=): dx += dLoss / count * (sigmoid(x) - y)
// where mask != 0.
#include "common.cuh"

extern "C" __global__ void bce_forward(float* elemLoss, const float* logits, const float* labels, const int* mask,
                                       i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        const float x = logits[i];
        elemLoss[i] = mask[i] != 0 ? fmaxf(x, 0.0f) - x * labels[i] + log1pf(expf(-fabsf(x))) : 0.0f;
    }
}

extern "C" __global__ void bce_backward(float* dLogits, const float* dLoss, const float* count, const float* logits,
                                        const float* labels, const int* mask, i64 n) {
    if (count[0] <= 0.0f) return;
    const float g = dLoss[0] / count[0];
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        if (mask[i] != 0) {
            const float s = 1.0f / (1.0f + expf(-logits[i]));
            dLogits[i] += g * (s - labels[i]);
        }
    }
}
