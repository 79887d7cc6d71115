// sampling.cu: the generator's Gumbel-max sampling and the discriminator's token replacement.
//
// CPU reference: CpuBackend.gumbelSample and replaceTokens.
// Shapes: logits [K, V], out [K] I32; inputIds, discIds [N] I32, positions, sampled [K] I32,
// labels [N] F32.
// Gumbel: out[k] = argmax_v logits[k, v] - log(-log(u + 2^-25)), u the uniform number k*V + v of
// the stream (the 2^-25 keeps u inside (0, 1)). Ties go to the smallest v, as a left-to-right
// scan with '>' does. One block per row; each thread draws whole Philox blocks of 4.
// Replacement: the host copies inputIds to discIds, sampling_forward_replace writes the sampled
// ids at the positions (skipping negative ones), sampling_forward_labels marks the changed tokens.
// All overwrite (=).
#include "common.cuh"
#include "philox.cuh"

// -log(u + 2^-25) for u = (bits >> 8) * 2^-24, without forming u + 2^-25 in float: for the largest u
// that sum rounds to exactly 1, whose log is 0, and the element would win its row with an infinite
// score. With m = bits >> 8, u + 2^-25 = (2m + 1) 2^-25; below 1/2 that is exact in float, above it
// 1 - (u + 2^-25) = (2 (2^24 - m) - 1) 2^-25 is exact, and log1p keeps its precision.
__device__ __forceinline__ float neg_log_shifted_uniform(uint32_t bits) {
    const uint32_t m = bits >> 8;
    if (m < (1u << 23)) return -logf((float)(2u * m + 1u) * 2.98023223876953125e-08f);
    return -log1pf(-(float)(2u * ((1u << 24) - m) - 1u) * 2.98023223876953125e-08f);
}

__device__ __forceinline__ bool better(float s, int v, float bestS, int bestV) {
    return s > bestS || (s == bestS && v < bestV);
}

extern "C" __global__ void sampling_forward_gumbel(int* out, const float* logits, int K, int V, uint32_t k0,
                                                   uint32_t k1, uint32_t step, uint32_t purpose,
                                                   const int64_t* step_offset) {
    __shared__ float bestScore[32];
    __shared__ int bestIndex[32];
    const int k = blockIdx.x;
    if (k >= K) return;
    const PhiloxKey key = philox_key(k0, k1, step, purpose, step_offset);
    const i64 e0 = (i64)k * V, e1 = e0 + V;
    float best = -INFINITY;
    int bestV = V;
    for (i64 b = (e0 >> 2) + threadIdx.x; b <= ((e1 - 1) >> 2); b += blockDim.x) {
        const uint4 r = philox_block((uint64_t)b, key);
        for (int lane = 0; lane < 4; lane++) {
            const i64 e = 4 * b + lane;
            if (e < e0 || e >= e1) continue;
            const int v = (int)(e - e0);
            const float s = logits[e] - logf(neg_log_shifted_uniform(philox_lane(r, lane)));
            if (better(s, v, best, bestV)) {
                best = s;
                bestV = v;
            }
        }
    }
    for (int o = 16; o > 0; o >>= 1) {
        const float s = __shfl_down_sync(FULL_MASK, best, o);
        const int v = __shfl_down_sync(FULL_MASK, bestV, o);
        if (better(s, v, best, bestV)) {
            best = s;
            bestV = v;
        }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        bestScore[warp] = best;
        bestIndex[warp] = bestV;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < (int)(blockDim.x >> 5); w++) {
            if (better(bestScore[w], bestIndex[w], best, bestV)) {
                best = bestScore[w];
                bestV = bestIndex[w];
            }
        }
        out[k] = bestV < V ? bestV : 0;  // all scores NaN: 0, never an id out of range
    }
}

// discIds[positions[k]] = sampled[k]. Positions are distinct by construction (masked positions).
extern "C" __global__ void sampling_forward_replace(int* discIds, const int* positions, const int* sampled, int K,
                                                    int N, unsigned int* errors, unsigned int code) {
    const int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= K) return;
    const int p = positions[k];
    if (p < 0) return;  // a dead or duplicate prediction slot (Masking marks them -1)
    if (p >= N) report_error(errors, code);
    else discIds[p] = sampled[k];
}

// labels[n] = discIds[n] != inputIds[n] ? 1 : 0.
extern "C" __global__ void sampling_forward_labels(float* labels, const int* discIds, const int* inputIds, int N) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n < N) labels[n] = discIds[n] != inputIds[n] ? 1.0f : 0.0f;
}
