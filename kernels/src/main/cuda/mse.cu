// mse.cu: mean squared error (the regression head of STS-B).
//
// CPU reference: CpuBackend.mseForward / mseBackward.
// Shapes: pred, target [N]; elemLoss [N] which reduce.cu averages (alpha = 1 / N) into loss[].
// Forward overwrites (=) elemLoss. Backward accumulates (+=): dPred += dLoss * 2 (pred - target) / N.
#include "common.cuh"

extern "C" __global__ void mse_forward(float* elemLoss, const float* pred, const float* target, i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        const float d = pred[i] - target[i];
        elemLoss[i] = d * d;
    }
}

extern "C" __global__ void mse_backward(float* dPred, const float* dLoss, const float* pred, const float* target,
                                        i64 n) {
    const float g = 2.0f * dLoss[0] / (float)n;
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        dPred[i] += g * (pred[i] - target[i]);
    }
}
