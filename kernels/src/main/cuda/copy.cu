// copy.cu: conversions between F32 and BF16 storage.
//
// CPU reference: CpuBackend.copy between F32 and BF16 tensors (round to nearest even; NaN stays
// a quiet NaN with its sign). Same-dtype copies and fills need no kernel: the backend uses
// cuMemcpyDtoDAsync and cuMemsetD16/D32Async.
// Shapes: n elements, flat. Both kernels overwrite (=).
#include "common.cuh"
#include "bf16.cuh"

extern "C" __global__ void copy_forward_f32_to_bf16(unsigned short* out, const float* in, i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        out[i] = f32_to_bf16_rne(in[i]);
    }
}

// Exact: every bf16 value is an f32.
extern "C" __global__ void copy_forward_bf16_to_f32(float* out, const unsigned short* in, i64 n) {
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        out[i] = __uint_as_float(((uint32_t)in[i]) << 16);
    }
}
