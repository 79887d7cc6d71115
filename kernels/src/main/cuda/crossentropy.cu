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
// One block per row: V = 30522 is far too long for a warp. crossentropy_backward_linear overwrites
// instead, for the logits' own linear layer (see there).
#include "common.cuh"
#include "bf16.cuh"

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

// The backward for the linear layer that made the logits (the masked-LM head): dLogits (=) the values
// crossentropy_backward adds into zeros (0 in ignored rows), rounded once to bf16 when dLogitsBf16 (what
// the layer's GEMMs read), and partials[chunk, v] = the sum over the chunk's rows of those f32 values, the
// first stage of the layer's bias gradient (reduce_forward_columns adds the chunks in order). Grid
// (chunks, ceil(V / blockDim.x)): a thread owns one column and walks the chunk's rows, so a row's stores
// coalesce and the column sum stays in a register; no [K, V] tensor is zero-filled, read back or added into.
extern "C" __global__ void crossentropy_backward_linear(void* dLogits, int dLogitsBf16, float* partials,
                                                        const float* dLoss, const float* count, const float* logits,
                                                        const float* lse, const int* targets, int K, int V,
                                                        int rowsPerChunk) {
    const int v = blockIdx.y * blockDim.x + threadIdx.x;
    if (v >= V) return;
    const int r0 = blockIdx.x * rowsPerChunk, r1 = min(K, r0 + rowsPerChunk);
    const bool any = count[0] > 0.0f;
    const float g = any ? dLoss[0] / count[0] : 0.0f;
    float acc = 0.0f;
    for (int k = r0; k < r1; k++) {
        const int t = targets[k];
        const i64 i = (i64)k * V + v;
        float d = 0.0f;
        if (any && t >= 0 && t < V) {
            const float p = expf(logits[i] - lse[k]);
            d = g * (v == t ? p - 1.0f : p);
        }
        if (dLogitsBf16) ((unsigned short*)dLogits)[i] = f32_to_bf16_rne(d);
        else ((float*)dLogits)[i] = d;
        acc += d;
    }
    if (partials != nullptr) partials[(i64)blockIdx.x * V + v] = acc;
}
