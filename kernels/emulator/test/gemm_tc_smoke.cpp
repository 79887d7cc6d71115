// A direct check of the device emulation, without the driver: gemm_tc (tensor cores through
// emulated ldmatrix, mma.sync and cp.async) and gemm_wgmma (through emulated wgmma) against a
// double-precision product of the same bf16 inputs, on edge-heavy shapes in all three layouts; and two access properties the comments claim:
// every ldmatrix of gemm_tc and of the bf16 flash-attention kernels is served in one wavefront (the
// swizzle leaves no bank conflict), and every warp-wide cp.async touches no more 32-byte global
// sectors than its bytes fill (coalesced; checked where the operands' rows start 32-byte aligned,
// as the model's do: an unaligned row costs a sector whatever the kernel does). build.sh --test runs it.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "emu_runtime.h"
#include "host_data.h"

// One GEMM problem of a layout: random bf16 operands as stored, C poisoned with NaN, launched with
// the parameter list gemm_tc and gemm_wgmma share, and checked against a double-precision product.
struct Problem {
    bool ta, tb;
    int M, N, K;
    DeviceVector<uint16_t> A, B;
    DeviceVector<float> C;

    Problem(const char* layout, int M, int N, int K, unsigned seed)
        : ta(layout[0] == 't'), tb(layout[1] == 't'), M(M), N(N), K(K), A((size_t)M * K), B((size_t)K * N), C((size_t)M * N, NAN) {
        srand(seed);
        for (auto& a : A) a = bf16((float)rand() / RAND_MAX * 2 - 1);
        for (auto& b : B) b = bf16((float)rand() / RAND_MAX * 2 - 1);
    }

    // Runs kernel `name` with one bm x bn tile per block; null or the launch error.
    const char* run(const char* name, int bm, int bn, unsigned threads, unsigned smem) {
        const emu::KernelInfo* k = emu::find_kernel(name);
        if (!k) return "not registered";
        void* c = C.data();
        const void* a = A.data();
        const void* b = B.data();
        long long zero = 0;
        float alpha = 1.0f;
        int accumulate = 0, outBf16 = 0, epilogue = 0;
        const float* bias = nullptr;
        void* aux = nullptr;
        float* partials = nullptr;
        void* params[] = {&c, &a, &b, &M, &N, &K, &zero, &zero, &zero, &alpha, &accumulate, &outBf16, &epilogue, &bias, &aux,
                          &partials};
        emu::reset_access_stats();
        return emu::launch(k, {(unsigned)((N + bn - 1) / bn), (unsigned)((M + bm - 1) / bm), 1}, {threads, 1, 1}, smem, params);
    }

    // Worst |C - exact| / (1 + |exact|); NaN counts as worst.
    double worst() const {
        double worst = 0;
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double s = 0;
                for (int kk = 0; kk < K; kk++) {
                    float av = widen(ta ? A[(size_t)kk * M + m] : A[(size_t)m * K + kk]);
                    float bv = widen(tb ? B[(size_t)n * K + kk] : B[(size_t)kk * N + n]);
                    s += (double)av * bv;
                }
                double e = fabs(C[(size_t)m * N + n] - s) / (1 + fabs(s));
                if (!(e <= worst)) worst = e;
            }
        return worst;
    }
};

static int check(const char* layout, int bm, int bn, int M, int N, int K, int even) {
    Problem p(layout, M, N, K, M * 131 + N * 7 + K);
    char name[64];
    snprintf(name, sizeof name, "gemm_tc_forward_%s_%dx%d%s", layout, bm, bn, even ? "_even" : "");
    const int threads = (bm == 64 ? 4 : bn == 128 ? 8 : 4) * 32;
    if (const char* err = p.run(name, bm, bn, threads, 4 * (bm * 32 + bn * 32) * 2)) {
        printf("FAIL %s: %s\n", name, err);
        return 1;
    }
    const emu::AccessStats access = emu::access_stats();
    const double worst = p.worst();
    const bool coalesced = access.copySectors == access.copyIdealSectors;
    const bool ok = worst < 1e-5 && access.ldmatrixWavefronts == access.ldmatrixRequests && (even || coalesced);
    printf("%s %s M=%d N=%d K=%d worst %.3g, ldmatrix %llu wavefronts for %llu requests, cp.async %llu sectors for %llu%s\n",
           ok ? "ok  " : "FAIL", name, M, N, K, worst, (unsigned long long)access.ldmatrixWavefronts,
           (unsigned long long)access.ldmatrixRequests, (unsigned long long)access.copySectors,
           (unsigned long long)access.copyIdealSectors, even ? " (unaligned rows: not held to it)" : "");
    return ok ? 0 : 1;
}

// gemm_wgmma (the Hopper GEMM, through the emulated wgmma) against the same double-precision
// product, and its cp.async coalescing; tiles as GemmWgmmaTile: BM x BN with BM / 64 warpgroups,
// STAGES stages of 64-deep k-tiles plus 1 KiB for the 1024-byte alignment of the ring.
static int wgmma(const char* layout, int bm, int bn, int stages, int M, int N, int K) {
    Problem p(layout, M, N, K, M * 131 + N * 7 + K + 1);
    char name[64];
    snprintf(name, sizeof name, "gemm_wgmma_forward_%s_%dx%d", layout, bm, bn);
    if (const char* err = p.run(name, bm, bn, bm / 64 * 128, stages * (bm + bn) * 128 + 1024)) {
        printf("FAIL %s: %s\n", name, err);
        return 1;
    }
    const emu::AccessStats access = emu::access_stats();
    const double worst = p.worst();
    const bool ok = worst < 1e-5 && access.copyInstructions > 0 && access.copySectors == access.copyIdealSectors;
    printf("%s %s M=%d N=%d K=%d worst %.3g, cp.async %llu sectors for %llu\n", ok ? "ok  " : "FAIL", name, M, N, K, worst,
           (unsigned long long)access.copySectors, (unsigned long long)access.copyIdealSectors);
    return ok ? 0 : 1;
}

// The bf16 flash-attention kernels at head dim D: forward, then both backward kernels, on random
// inputs, with the heads as [B, H, T, D] tensors or in place in a fused projection [B, T, 3*H*D]
// (packed) and its context [B, T, H*D]; what is checked is that they run and that their ldmatrix
// reads are conflict-free and their copies move no more sectors than the bytes need.
static int flash(int D, int T, bool packed) {
    const int B = 1, H = 2, n = B * H * T * D;
    DeviceVector<uint16_t> qkv(3 * n), o(n), dOut(n), dqkv(3 * n);
    for (auto* x : {&qkv, &dOut})
        for (auto& e : *x) e = bf16((float)rand() / RAND_MAX - 0.5f);
    DeviceVector<float> lse(B * H * T), delta(B * H * T, 0.0f);
    DeviceVector<int> mask(B * T, 1);
    float scale = 1.0f / sqrtf((float)D), p = 0.0f, keep = 1.0f;
    uint32_t k0 = 1, k1 = 2, step = 0, purpose = 3;
    long long offset = 0;
    const long long* stepOffset = &offset;
    // q, k, v: thirds of one buffer, side by side per row (packed) or one after another (heads)
    const long long third = packed ? (long long)H * D : n;
    uint16_t *q = qkv.data(), *dq = dqkv.data();
    void *po = o.data(), *pl = lse.data(), *pq = q, *pk = q + third, *pv = q + 2 * third, *pm = mask.data();
    void *pg = dOut.data(), *pdq = dq, *pdk = dq + third, *pdv = dq + 2 * third, *pd = delta.data();
    int h = H, t = T, accumulate = 0;
    long long inBatch = packed ? 3LL * T * H * D : (long long)H * T * D, outBatch = packed ? (long long)T * H * D : inBatch;
    int inHead = packed ? D : T * D, inRow = packed ? 3 * H * D : D, outHead = packed ? D : T * D, outRow = packed ? H * D : D;
    void* fwd[] = {&po, &pl, &pq, &pk, &pv, &pm, &h, &t, &inBatch, &inHead, &inRow, &outBatch, &outHead, &outRow,
                   &scale, &p, &keep, &k0, &k1, &step, &purpose, &stepOffset};
    void* dqArgs[] = {&pdq, &pq, &pk, &pv, &pg, &pl, &pd, &pm, &h, &t, &inBatch, &inHead, &inRow, &outBatch, &outHead, &outRow,
                      &accumulate, &scale, &p, &keep, &k0, &k1, &step, &purpose, &stepOffset};
    void* dkdvArgs[] = {&pdk, &pdv, &pq, &pk, &pv, &pg, &pl, &pd, &pm, &h, &t, &inBatch, &inHead, &inRow, &outBatch, &outHead,
                        &outRow, &accumulate, &scale, &p, &keep, &k0, &k1, &step, &purpose, &stepOffset};
    int failures = 0;
    for (auto [kind, args] : {std::pair<const char*, void**>{"forward", fwd}, {"backward_dq", dqArgs}, {"backward_dkdv", dkdvArgs}}) {
        char name[64];
        snprintf(name, sizeof name, "flash_attention_%s_bf16_d%d", kind, D);
        const emu::KernelInfo* kernel = emu::find_kernel(name);
        emu::reset_access_stats();
        const char* err = kernel ? emu::launch(kernel, {(unsigned)((T + 63) / 64), (unsigned)(B * H), 1}, {128, 1, 1}, 0, args)
                                 : "not registered";
        const emu::AccessStats a = emu::access_stats();
        const bool ok = !err && a.ldmatrixRequests > 0 && a.ldmatrixWavefronts == a.ldmatrixRequests &&
                        a.copyInstructions > 0 && a.copySectors == a.copyIdealSectors;
        printf("%s %s T=%d%s, ldmatrix %llu wavefronts for %llu requests, cp.async %llu sectors for %llu%s%s\n",
               ok ? "ok  " : "FAIL", name, T, packed ? " packed" : "", (unsigned long long)a.ldmatrixWavefronts,
               (unsigned long long)a.ldmatrixRequests, (unsigned long long)a.copySectors,
               (unsigned long long)a.copyIdealSectors, err ? ": " : "", err ? err : "");
        failures += !ok;
    }
    return failures;
}

int main() {
    int failures = 0;
    for (const char* layout : {"nn", "nt", "tn"}) {
        // the 16-byte copies need contiguous dimensions in multiples of 8; 16 keeps rows 32-byte aligned
        failures += check(layout, 64, 64, 80, 96, 48, 0);
        failures += check(layout, 128, 64, 144, 64, 96, 0);
        failures += check(layout, 128, 128, 144, 144, 64, 0);
        failures += check(layout, 64, 64, 66, 34, 18, 1);
    }
    for (const char* layout : {"nn", "nt", "tn"}) {
        // K deeper than the 6-stage ring wraps it; a K tail of 16 and ragged M, N edges are zero-filled
        failures += wgmma(layout, 128, 128, 6, 144, 144, 464);
        failures += wgmma(layout, 128, 256, 4, 144, 272, 336);  // rows of multiples of 16: 32-byte aligned
        failures += wgmma(layout, 64, 128, 4, 80, 144, 272);
    }
    for (int d : {16, 32, 64}) {  // a partial row block; per-head rows of lse stay aligned
        failures += flash(d, 96, false);
        failures += flash(d, 96, true);
    }
    return failures ? 1 : 0;
}
