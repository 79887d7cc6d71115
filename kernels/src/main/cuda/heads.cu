// heads.cu: the attention layout changes [B, T, H*D] <-> [B, H, T, D].
//
// CPU reference: CpuBackend.splitHeads / mergeHeads.
// Shapes: split reads in [B, T, H*D] and writes out [B, H, T, D]; merge the reverse.
// Both overwrite (=) or, with accumulate != 0, add (+=) into out: the backward of a split is a
// merge that accumulates, and vice versa.
// One thread per output element; reads are contiguous in runs of D (64), so they coalesce.
#include "common.cuh"

extern "C" __global__ void heads_forward_split(float* out, const float* in, int B, int T, int H, int D,
                                               int accumulate) {
    const i64 n = (i64)B * H * T * D;
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        const int d = (int)(i % D);
        const int t = (int)((i / D) % T);
        const int h = (int)((i / ((i64)D * T)) % H);
        const i64 b = i / ((i64)D * T * H);
        const float v = in[((b * T + t) * H + h) * D + d];
        out[i] = accumulate ? out[i] + v : v;
    }
}

extern "C" __global__ void heads_forward_merge(float* out, const float* in, int B, int T, int H, int D,
                                               int accumulate) {
    const i64 n = (i64)B * H * T * D;
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        const int d = (int)(i % D);
        const int h = (int)((i / D) % H);
        const int t = (int)((i / ((i64)D * H)) % T);
        const i64 b = i / ((i64)D * H * T);
        const float v = in[((b * H + h) * T + t) * D + d];
        out[i] = accumulate ? out[i] + v : v;
    }
}
