// crossentropy.cu: softmax cross-entropy over selected rows, softmax fused in.
//
// CPU reference: CpuBackend.crossEntropyForward / crossEntropyBackward.
// Shapes: logits [K, V], targets [K] I32 (negative = ignored), lse [K] saved, rowLoss [K]
// (0 for ignored rows) which reduce.cu averages over the valid rows into loss[].
// Fusion: the forward saves only lse (K floats), never the probabilities; the backward
// recomputes exp(logit - lse) on the fly while it writes the gradient, so the [K, V]
// probabilities are never materialised at all.
// Forward overwrites (=) lse and rowLoss. Backward accumulates (+=) into dLogits:
// dLogits[k, v] += dLoss / count * (softmax - onehot), nothing for ignored rows.
// One block per row: V = 30522 is far too long for a warp.
#include "common.cuh"

extern "C" __global__ void crossentropy_forward(float* lse, float* rowLoss, const float* logits, const int* targets,
                                                int K, int V, unsigned int* errors, unsigned int code) {
    __shared__ float scratch[32];
    const int k = blockIdx.x;
    if (k >= K) return;
    const float* x = logits + (i64)k * V;
    float m = -INFINITY;
    for (int v = threadIdx.x; v < V; v += blockDim.x) m = fmaxf(m, x[v]);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int v = threadIdx.x; v < V; v += blockDim.x) s += expf(x[v] - m);
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) {
        const float l = m + logf(s);
        lse[k] = l;
        const int t = targets[k];
        if (t >= V) report_error(errors, code);
        rowLoss[k] = (t >= 0 && t < V) ? l - x[t] : 0.0f;
    }
}

// count[0] is the number of valid targets (reduce_forward_count), dLoss[0] the upstream gradient.
extern "C" __global__ void crossentropy_backward(float* dLogits, const float* dLoss, const float* count,
                                                 const float* logits, const float* lse, const int* targets, int K,
                                                 int V) {
    const int k = blockIdx.x;
    if (k >= K) return;
    const int t = targets[k];
    if (t < 0 || t >= V || count[0] <= 0.0f) return;
    const float g = dLoss[0] / count[0];
    const float l = lse[k];
    const i64 base = (i64)k * V;
    for (int v = threadIdx.x; v < V; v += blockDim.x) {
        const float p = expf(logits[base + v] - l);
        dLogits[base + v] += g * (v == t ? p - 1.0f : p);
    }
}
