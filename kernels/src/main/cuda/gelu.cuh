// gelu.cuh: the exact-erf GELU and its derivative, shared by elementwise.cu and gemm_tc.cu's
// fused bias+GELU epilogue so both compute the same function (CPU reference: CpuBackend.geluForward).
#pragma once

#define INV_SQRT2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f

__device__ __forceinline__ float gelu(float x) {
    return 0.5f * x * (1.0f + erff(x * INV_SQRT2));
}

// d/dx of 0.5 x (1 + erf(x / sqrt 2)) = Phi(x) + x phi(x).
__device__ __forceinline__ float gelu_grad(float x) {
    const float cdf = 0.5f * (1.0f + erff(x * INV_SQRT2));
    const float pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
    return cdf + x * pdf;
}
