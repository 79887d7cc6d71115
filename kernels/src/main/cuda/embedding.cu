// embedding.cu: row lookup (embedding, gather) and its deterministic backward (embedding
// gradient, scatter-add of selected rows).
//
// CPU reference: CpuBackend.embeddingForward / embeddingSumForward / embeddingBackward, gatherRows /
// scatterAddRows.
// Shapes: table [V, C], ids [N] I32, out / dOut [N, C].
// Forward overwrites (=). Backward accumulates (+=) into dTable.
// Determinism without float atomics (the same bits every run, whatever the duplicates):
//   1. embedding_backward_keys: key[n] = (id << 32) | n, padded to P with ~0.
//   2. sort.cu sorts the keys: rows are grouped by id, and within an id ordered by n.
//   3. embedding_backward_chunks: the sorted positions are cut into chunks of S; one lane per
//      (chunk, column) sums each run of equal ids in order. A run wholly inside a chunk is added
//      to dTable directly (only that chunk sees the id); a run cut by a chunk boundary leaves its
//      pieces in partials: `in` for the piece that continues a run, `out` for the piece that
//      starts one and continues into the next chunk.
//   4. embedding_backward_fixup: the chunk where a cut run starts adds its pieces in chunk order.
// Cost: the sort (O(P log^2 P) on 8-byte keys, ~21 launches for N = 65536), one read of dOut,
// one read-modify-write per touched dTable row, partials of 2 * chunks * C floats.
// Out-of-range ids are skipped and reported through the error word.
#include "common.cuh"

#define INVALID_ID 0xffffffffu

extern "C" __global__ void embedding_forward(float* out, const float* table, const int* ids, int N, int C, int V,
                                             unsigned int* errors, unsigned int code) {
    const i64 n = (i64)N * C;
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        const int id = ids[i / C];
        if (id < 0 || id >= V) {
            report_error(errors, code);
            out[i] = 0.0f;
        } else {
            out[i] = table[(i64)id * C + i % C];
        }
    }
}

// out[n] = (t0[ids0[n]] + t1[ids1[n]]) + t2[ids2[n]]: word, position and token-type embeddings summed
// as they are looked up, in the order of the CPU's two adds (CpuBackend.embeddingSumForward). An id
// out of its table's range gives 0 for that table and is reported under code0, code1 or code2.
extern "C" __global__ void embedding_forward_sum3(float* out, const float* t0, const int* ids0, int V0,
                                                  const float* t1, const int* ids1, int V1, const float* t2,
                                                  const int* ids2, int V2, int N, int C, unsigned int* errors,
                                                  unsigned int code0, unsigned int code1, unsigned int code2) {
    const i64 n = (i64)N * C;
    for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
        const i64 row = i / C, c = i % C;
        const int a = ids0[row], b = ids1[row], d = ids2[row];
        float x = 0.0f, y = 0.0f, z = 0.0f;
        if (a < 0 || a >= V0) report_error(errors, code0); else x = t0[(i64)a * C + c];
        if (b < 0 || b >= V1) report_error(errors, code1); else y = t1[(i64)b * C + c];
        if (d < 0 || d >= V2) report_error(errors, code2); else z = t2[(i64)d * C + c];
        out[i] = __fadd_rn(__fadd_rn(x, y), z);  // no contraction or reassociation: the CPU's order and roundings
    }
}

extern "C" __global__ void embedding_backward_keys(unsigned long long* keys, const int* ids, int N, i64 P, int V,
                                                   unsigned int* errors, unsigned int code) {
    const i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x;
    if (i >= P) return;
    unsigned long long key = ~0ull;
    if (i < N) {
        const int id = ids[i];
        if (id < 0 || id >= V) report_error(errors, code);
        else key = ((unsigned long long)id << 32) | (unsigned long long)i;
    }
    keys[i] = key;
}

__device__ __forceinline__ unsigned int key_id(const unsigned long long* keys, int p) {
    return (unsigned int)(keys[p] >> 32);
}

// Grid (chunks, ceil(C / blockDim.x)); thread = one column of one chunk.
extern "C" __global__ void embedding_backward_chunks(float* dTable, float* partialIn, float* partialOut,
                                                     const unsigned long long* keys, const float* dOut, int N,
                                                     int C, int S) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int j = blockIdx.x;
    const int p0 = j * S, p1 = min(N, p0 + S);
    const bool contIn = p0 > 0 && key_id(keys, p0) == key_id(keys, p0 - 1);
    const bool contOut = p1 < N && key_id(keys, p1 - 1) == key_id(keys, p1);
    unsigned int cur = key_id(keys, p0);
    int runStart = p0;
    float acc = 0.0f;
    for (int p = p0; p <= p1; p++) {
        const unsigned int id = p < p1 ? key_id(keys, p) : INVALID_ID;
        if (p == p1 || id != cur) {  // the run [runStart, p) of id `cur` ends here
            if (cur != INVALID_ID) {
                if (runStart == p0 && contIn) partialIn[(i64)j * C + c] = acc;
                else if (p == p1 && contOut) partialOut[(i64)j * C + c] = acc;
                else dTable[(i64)cur * C + c] += acc;
            }
            if (p == p1) break;
            cur = id;
            runStart = p;
            acc = 0.0f;
        }
        if (id != INVALID_ID) acc += dOut[(i64)(unsigned int)keys[p] * C + c];
    }
}

// Same grid. The chunk whose last run starts in it and continues past its end owns that run.
extern "C" __global__ void embedding_backward_fixup(float* dTable, const float* partialIn, const float* partialOut,
                                                    const unsigned long long* keys, int N, int C, int S) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int j = blockIdx.x;
    const int p0 = j * S, p1 = min(N, p0 + S);
    const unsigned int id = key_id(keys, p1 - 1);
    const bool contIn = p0 > 0 && key_id(keys, p0) == key_id(keys, p0 - 1);
    const bool singleRun = key_id(keys, p0) == id;
    const bool contOut = p1 < N && id == key_id(keys, p1);
    if (!contOut || (singleRun && contIn) || id == INVALID_ID) return;
    float acc = partialOut[(i64)j * C + c];
    for (int k = j + 1;; k++) {
        acc += partialIn[(i64)k * C + c];
        const int q0 = k * S, q1 = min(N, q0 + S);
        const bool kSingle = key_id(keys, q0) == key_id(keys, q1 - 1);
        const bool kContOut = q1 < N && key_id(keys, q1 - 1) == key_id(keys, q1);
        if (!(kSingle && kContOut)) break;
    }
    dTable[(i64)id * C + c] += acc;
}
