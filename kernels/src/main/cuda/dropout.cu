// dropout.cu: inverted dropout whose mask is the Philox stream of the CPU backend.
//
// CPU reference: CpuBackend.dropoutForward / dropoutBackward: keep element i when
// uniform(key, i) >= p, scale kept values by 1 / (1 - p). The masks are bit-identical to the
// CPU's: same counter layout (philox.cuh), exact uniform, exact comparison.
// Shapes: n elements, flat; element i of the tensor is element i of the stream (for attention
// probabilities [B, H, T, T] that is ((b*H + h)*T + i)*T + j, as the Backend javadoc says).
// One thread per 4 consecutive elements: one Philox block serves all four lanes.
// Forward overwrites (=) and may run in place; backward accumulates (+=) with the regenerated mask.
// Every kernel ends with the stream arguments k0, k1, step, purpose, step_offset (philox.cuh).
#include "common.cuh"
#include "philox.cuh"

extern "C" __global__ void dropout_forward(float* out, const float* in, float p, float scale, i64 n, uint32_t k0,
                                           uint32_t k1, uint32_t step, uint32_t purpose, const int64_t* step_offset) {
    const PhiloxKey key = philox_key(k0, k1, step, purpose, step_offset);
    const i64 groups = (n + 3) / 4;
    for (i64 g = blockIdx.x * (i64)blockDim.x + threadIdx.x; g < groups; g += (i64)gridDim.x * blockDim.x) {
        const uint4 r = philox_block((uint64_t)g, key);
        for (int lane = 0; lane < 4; lane++) {
            const i64 i = 4 * g + lane;
            if (i < n) out[i] = in[i] * (philox_uniform(philox_lane(r, lane)) >= p ? scale : 0.0f);
        }
    }
}

extern "C" __global__ void dropout_backward(float* dIn, const float* dOut, float p, float scale, i64 n, uint32_t k0,
                                            uint32_t k1, uint32_t step, uint32_t purpose, const int64_t* step_offset) {
    const PhiloxKey key = philox_key(k0, k1, step, purpose, step_offset);
    const i64 groups = (n + 3) / 4;
    for (i64 g = blockIdx.x * (i64)blockDim.x + threadIdx.x; g < groups; g += (i64)gridDim.x * blockDim.x) {
        const uint4 r = philox_block((uint64_t)g, key);
        for (int lane = 0; lane < 4; lane++) {
            const i64 i = 4 * g + lane;
            if (i < n) dIn[i] += dOut[i] * (philox_uniform(philox_lane(r, lane)) >= p ? scale : 0.0f);
        }
    }
}

// out[i] = raw 32-bit value number start + i of the stream: lets a test hold philox.cuh against
// io.electra.engine.random.Philox bit for bit.
extern "C" __global__ void dropout_forward_bits(uint32_t* out, i64 start, i64 n, uint32_t k0, uint32_t k1,
                                                uint32_t step, uint32_t purpose, const int64_t* step_offset) {
    const PhiloxKey key = philox_key(k0, k1, step, purpose, step_offset);
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        const i64 e = start + i;
        out[i] = philox_lane(philox_block((uint64_t)(e >> 2), key), (int)(e & 3));
    }
}
