// bf16.cuh: f32 -> bf16 rounding exactly as CpuBackend.copy does it, shared by copy.cu and adamw.cu
// (which refreshes the bf16 weight copies), so a weight's bf16 copy is bit-identical wherever made.
#pragma once
#include <stdint.h>

// bf16 is the high half of an f32; rounding adds 0x7fff plus the lowest kept bit (ties to even).
__device__ __forceinline__ unsigned short f32_to_bf16_rne(float x) {
    uint32_t u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x0040u);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}
