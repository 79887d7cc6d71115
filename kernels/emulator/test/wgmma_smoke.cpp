// A direct check of the emulated wgmma (runtime.cpp), independent of any kernel family: the test
// kernels of wgmma_smoke.cu against double-precision products of the same bf16 inputs.
//   1. Layouts: one k16 step from shared images laid out here, on the host, from the PTX ISA's
//      canonical-layout table (evaluated as CuTe shape:stride layouts, the table's own notation,
//      checked first against the ISA's exact-layout examples), for every swizzle mode (none, 32B,
//      64B, 128B) and both major-nesses of A and B: the emulator's address formulas must agree.
//   2. The pipeline of wgmma.cuh's 128-byte-swizzled tiles: m64n128k16 and m64n256k16, every
//      imm-trans combination, scale-d 0 and 1, two warpgroups, chained k16 steps, two cp.async
//      stages and wait_group 1.
//   3. Every strictness check fires: each broken kernel must fail its launch naming the problem.
// build.sh --test runs it after the gemm_tc smoke test.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "emu_runtime.h"
#include "host_data.h"

namespace {

uint16_t randomBf16() {
    return bf16((float)rand() / RAND_MAX * 2 - 1);
}

enum Mode {  // as in wgmma_smoke.cu
    GOOD = 0,
    NO_PROXY_FENCE,
    FENCE_AFTER_BARRIER,
    OVERWRITE_IN_FLIGHT,
    WRITE_ACC_IN_FLIGHT,
    READ_ACC_IN_FLIGHT,
    NO_WGMMA_FENCE,
    WRITE_AFTER_WAIT,
    NO_FINAL_WAIT,
    DIVERGENT_DESC,
    BASE_OFFSET,
    OUTSIDE_SHARED,
};

const emu::KernelInfo* kernel(const char* name) {
    const emu::KernelInfo* k = emu::find_kernel(name);
    if (!k) {
        printf("FAIL %s is not registered\n", name);
        exit(1);
    }
    return k;
}

// ---- 1. layouts ----

// One mode of a CuTe layout: coordinate (mod shape) times stride; shape 0: the outermost, unbounded.
struct LayoutMode {
    long shape, stride;
};
long evaluate(const std::vector<LayoutMode>& modes, long coordinate) {
    long offset = 0;
    for (const LayoutMode& m : modes) {
        if (m.shape == 0) return offset + coordinate * m.stride;
        offset += coordinate % m.shape * m.stride;
        coordinate /= m.shape;
    }
    return coordinate == 0 ? offset : -1;
}

// The PTX ISA's canonical layouts ("Canonical Layouts"), in bf16 elements (T = 8): the MN modes
// and the K modes of a matrix with leading and stride byte offsets lbo, sbo (also in elements here).
void canonical(int swizzle, bool mnMajor, long lbo, long sbo, std::vector<LayoutMode>& mn, std::vector<LayoutMode>& k) {
    const long T = 8, atoms = swizzle / 16;  // 128-bit units per swizzle row
    if (mnMajor) {
        if (swizzle == 0) {  // ((T,1,m),(8,k)):((1,T,SBO),(1T,LBO))
            mn = {{T, 1}, {1, T}, {0, sbo}};
            k = {{8, T}, {0, lbo}};
        } else {  // ((T,W,m),(8,k)):((1,T,LBO),(WT,SBO)), W = 2, 4, 8
            mn = {{T, 1}, {atoms, T}, {0, lbo}};
            k = {{8, atoms * T}, {0, sbo}};
        }
    } else {
        if (swizzle == 0) {  // ((8,m),(T,2k)):((1T,SBO),(1,LBO))
            mn = {{8, T}, {0, sbo}};
            k = {{T, 1}, {0, lbo}};
        } else {  // ((8,m),(T,2k)):((WT,SBO),(1,T))
            mn = {{8, atoms * T}, {0, sbo}};
            k = {{T, 1}, {0, T}};
        }
    }
}

// CuTe's Swizzle<B, 4, 3> on a byte address: bits [7, 7+B) are xored into bits [4, 4+B).
uint32_t swizzled(uint32_t address, int swizzle) {
    const int b = swizzle == 128 ? 3 : swizzle == 64 ? 2 : swizzle == 32 ? 1 : 0;
    const uint32_t yyy = ((1u << b) - 1) << 7;
    return address ^ ((address & yyy) >> 3);
}

// The canonical table as transcribed above reproduces the ISA's exact-layout examples (MN-major bf16,
// no swizzle / 32B / 64B; m = k = 2).
int checkTranscription() {
    struct Example {
        int swizzle;
        long lbo, sbo;
        std::vector<LayoutMode> mn, k;  // the exact layout, written out as the ISA gives it
    } examples[] = {
        {0, 128, 64, {{8, 1}, {1, 8}, {2, 64}}, {{8, 8}, {2, 128}}},      // ((8,1,2),(8,2)):((1,8,64),(8,128))
        {32, 128, 256, {{8, 1}, {2, 8}, {2, 128}}, {{8, 16}, {2, 256}}},  // ((8,2,2),(8,2)):((1,8,128),(16,256))
        {64, 256, 512, {{8, 1}, {4, 8}, {2, 256}}, {{8, 32}, {2, 512}}},  // ((8,4,2),(8,2)):((1,8,256),(32,512))
    };
    int failures = 0;
    for (const Example& e : examples) {
        std::vector<LayoutMode> mn, k;
        canonical(e.swizzle, true, e.lbo, e.sbo, mn, k);
        const long extent = 8 * (e.swizzle ? e.swizzle / 16 : 1) * 2;
        for (long i = 0; i < extent; i++)
            for (long kk = 0; kk < 16; kk++)
                if (evaluate(mn, i) + evaluate(k, kk) != evaluate(e.mn, i) + evaluate(e.k, kk)) failures++;
    }
    printf("%s canonical-layout table reproduces the ISA's exact-layout examples\n", failures ? "FAIL" : "ok  ");
    return failures != 0;
}

// Lays out an operand (extent MN x 16 K) in a compact arrangement of its canonical layout; returns
// its byte size and the LBO and SBO (bytes) the arrangement has.
size_t arrange(int swizzle, bool mnMajor, long extent, long& lbo, long& sbo) {
    if (swizzle == 0) {  // core matrices of 8 x 16 bytes; the 8-wide MN blocks first, then the 2 K halves
        sbo = 128;
        lbo = 128 * (extent / 8);
        return 2 * lbo;
    }
    if (!mnMajor) {  // rows of `swizzle` bytes (only their first 32 used), 8 rows a pattern
        lbo = 0;
        sbo = 8 * swizzle;
        return extent / 8 * sbo;
    }
    sbo = 8 * swizzle;   // K rows of `swizzle` bytes, 8 a pattern; the 2 K patterns, then the next MN block
    lbo = 2 * sbo;
    return extent / (swizzle / 2) * lbo;
}

uint64_t descriptor(uint32_t start, long lbo, long sbo, int swizzle) {
    const uint64_t mode = swizzle == 128 ? 1 : swizzle == 64 ? 2 : swizzle == 32 ? 3 : 0;
    return (uint64_t)(start >> 4) | ((uint64_t)(lbo >> 4) << 16) | ((uint64_t)(sbo >> 4) << 32) | (mode << 62);
}

int layouts() {
    int failures = checkTranscription();
    for (int swizzle : {0, 32, 64, 128}) {
        for (int ta : {0, 1}) {
            for (int tb : {0, 1}) {
                srand(swizzle * 4 + ta * 2 + tb);
                std::vector<uint16_t> A(64 * 16), B(16 * 128);  // A[m][k], B[k][n]
                for (auto& x : A) x = randomBf16();
                for (auto& x : B) x = randomBf16();
                long lboA, sboA, lboB, sboB;
                const size_t bytesA = arrange(swizzle, ta, 64, lboA, sboA), offsetB = (bytesA + 1023) / 1024 * 1024;
                const size_t bytesB = arrange(swizzle, tb, 128, lboB, sboB);
                DeviceVector<uint16_t> image((offsetB + bytesB) / 2, 0xffff);  // NaN wherever nothing is placed
                std::vector<LayoutMode> mn, k;
                canonical(swizzle, ta, lboA / 2, sboA / 2, mn, k);
                for (int m = 0; m < 64; m++)
                    for (int kk = 0; kk < 16; kk++)
                        image[swizzled(2 * (evaluate(mn, m) + evaluate(k, kk)), swizzle) / 2] = A[m * 16 + kk];
                canonical(swizzle, tb, lboB / 2, sboB / 2, mn, k);
                for (int n = 0; n < 128; n++)
                    for (int kk = 0; kk < 16; kk++)
                        image[swizzled((uint32_t)offsetB + 2 * (evaluate(mn, n) + evaluate(k, kk)), swizzle) / 2] = B[kk * 128 + n];
                DeviceVector<float> D(64 * 128, NAN);
                float* d = D.data();
                const void* img = image.data();
                int chunks = (int)(image.size() * 2 / 16);
                unsigned long long da = descriptor(0, lboA, sboA, swizzle), db = descriptor((uint32_t)offsetB, lboB, sboB, swizzle);
                void* params[] = {&d, &img, &chunks, &da, &db, &ta, &tb};
                const char* err = emu::launch(kernel("wgmma_layout"), {1, 1, 1}, {128, 1, 1}, (unsigned)(image.size() * 2), params);
                double worst = err ? INFINITY : 0;
                for (int m = 0; m < 64 && !err; m++)
                    for (int n = 0; n < 128; n++) {
                        double s = 0;
                        for (int kk = 0; kk < 16; kk++) s += widen(A[m * 16 + kk]) * widen(B[kk * 128 + n]);
                        const double e = fabs(D[m * 128 + n] - s) / (1 + fabs(s));
                        if (!(e <= worst)) worst = e;
                    }
                const bool ok = worst < 1e-6;
                printf("%s layout swizzle %-4s A %s-major (LBO %ld SBO %ld), B %s-major (LBO %ld SBO %ld): worst %.3g%s%s\n",
                       ok ? "ok  " : "FAIL", swizzle ? (std::to_string(swizzle) + "B").c_str() : "none", ta ? "M" : "K", lboA,
                       sboA, tb ? "N" : "K", lboB, sboB, worst, err ? ": " : "", err ? err : "");
                failures += !ok;
            }
        }
    }
    return failures;
}

// ---- 2 and 3. the pipeline ----

struct Run {
    const char* error;
    double worst;
    std::vector<float> probe;
};

Run pipeline(int N, int K, int ta, int tb, int accumulate, int mode, unsigned threads = 256) {
    srand(N + K * 3 + ta * 5 + tb * 7 + accumulate * 11);
    std::vector<uint16_t> A(128 * (size_t)K), B((size_t)K * N);  // A[m][k], B[k][n]
    for (auto& x : A) x = randomBf16();
    for (auto& x : B) x = randomBf16();
    DeviceVector<uint16_t> Ag(A.size()), Bg(B.size());  // as the kernel reads them
    for (int m = 0; m < 128; m++)
        for (int k = 0; k < K; k++) Ag[ta ? (size_t)k * 128 + m : (size_t)m * K + k] = A[(size_t)m * K + k];
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++) Bg[tb ? (size_t)k * N + n : (size_t)n * K + k] = B[(size_t)k * N + n];
    DeviceVector<float> D(128 * (size_t)N), probe(256, 0.0f);
    for (auto& x : D) x = (float)rand() / RAND_MAX * 4 - 2;
    const std::vector<float> initial(D.begin(), D.end());
    float* d = D.data();
    const void* a = Ag.data();
    const void* b = Bg.data();
    float* p = probe.data();
    void* params[] = {&d, &a, &b, &N, &K, &ta, &tb, &accumulate, &mode, &p};
    const unsigned smem = 2 * (16384 + N * 128);
    Run run{emu::launch(kernel("wgmma_pipeline"), {1, 1, 1}, {threads, 1, 1}, smem, params), 0, {}};
    run.probe.assign(probe.begin(), probe.end());
    if (run.error) return run;
    for (int m = 0; m < 128; m++)
        for (int n = 0; n < N; n++) {
            double s = accumulate ? initial[(size_t)m * N + n] : 0.0;
            for (int k = 0; k < K; k++) s += widen(A[(size_t)m * K + k]) * widen(B[(size_t)k * N + n]);
            const double e = fabs(D[(size_t)m * N + n] - s) / (1 + fabs(s));
            if (!(e <= run.worst)) run.worst = e;  // NaN counts as worst
        }
    return run;
}

int pipelines() {
    int failures = 0;
    for (int N : {128, 256})
        for (int ta : {0, 1})
            for (int tb : {0, 1})
                for (int accumulate : {0, 1}) {
                    const int K = 192;  // three K-tiles: the third refills the first stage
                    const Run r = pipeline(N, K, ta, tb, accumulate, GOOD);
                    const bool ok = !r.error && r.worst < 1e-5;
                    printf("%s wgmma_m64n%dk16<%d,%d> scale-d %d, 2 warpgroups, K=%d: worst %.3g%s%s\n", ok ? "ok  " : "FAIL", N, ta,
                           tb, accumulate, K, r.worst, r.error ? ": " : "", r.error ? r.error : "");
                    failures += !ok;
                }
    return failures;
}

int negatives() {
    struct Case {
        const char* what;
        int mode, K;
        unsigned threads;
        const char* expect;  // in the launch error
    } cases[] = {
        {"cp.async tile read with no fence.proxy.async", NO_PROXY_FENCE, 128, 256, "no fence.proxy.async.shared::cta by that thread"},
        {"fence.proxy.async after the barrier", FENCE_AFTER_BARRIER, 128, 256, "no __syncthreads between that fence"},
        {"next tile copied while the last tile's ops run", OVERWRITE_IN_FLIGHT, 128, 256, "which a wgmma.mma_async in flight reads"},
        {"accumulator written before the wait (chained)", WRITE_ACC_IN_FLIGHT, 128, 256,
         "written by the thread while an earlier wgmma.mma_async that produces it was in flight"},
        {"accumulator written before the wait", WRITE_ACC_IN_FLIGHT, 64, 256, "written by the thread while the op was in flight"},
        {"mma_async with no wgmma.fence", NO_WGMMA_FENCE, 64, 256, "no wgmma.fence before it"},
        {"accumulators changed after a wait, no wgmma.fence", WRITE_AFTER_WAIT, 128, 256, "with no wgmma.fence since"},
        {"thread exits with ops in flight", NO_FINAL_WAIT, 64, 256, "exited with 4 wgmma.mma_async in flight"},
        {"warps disagree on a descriptor", DIVERGENT_DESC, 64, 256, "disagree on the descriptors"},
        {"descriptor base offset", BASE_OFFSET, 64, 256, "base offset 1"},
        {"descriptor outside shared memory", OUTSIDE_SHARED, 64, 256, "outside the block's shared memory"},
        {"warpgroup of 3 warps", GOOD, 64, 224, "a warpgroup is 4 whole warps"},
    };
    int failures = 0;
    for (const Case& c : cases) {
        const Run r = pipeline(128, c.K, 0, 0, 1, c.mode, c.threads);
        const bool ok = r.error && strstr(r.error, c.expect);
        printf("%s caught: %s%s%s\n", ok ? "ok  " : "FAIL", c.what, r.error ? ": " : " (no launch error)", r.error ? r.error : "");
        failures += !ok;
    }
    // A read of an in-flight accumulator cannot be seen; it reads NaN (and the results stay right).
    const Run r = pipeline(128, 128, 0, 0, 1, READ_ACC_IN_FLIGHT);
    bool nan = !r.error;
    for (float x : r.probe) nan = nan && isnan(x);
    const bool ok = nan && r.worst < 1e-5;
    printf("%s accumulator read before the wait reads NaN in all 256 threads%s%s\n", ok ? "ok  " : "FAIL", r.error ? ": " : "",
           r.error ? r.error : "");
    return failures + !ok;
}

}  // namespace

int main() {
    const int failures = layouts() + pipelines() + negatives();
    printf("%s\n", failures ? "wgmma smoke: FAILED" : "wgmma smoke: all passed");
    return failures ? 1 : 0;
}
