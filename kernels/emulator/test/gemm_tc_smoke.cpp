// A direct check of the device emulation, without the driver: gemm_tc (tensor cores through
// emulated ldmatrix, mma.sync and cp.async) against a double-precision product of the same bf16
// inputs, on edge-heavy shapes in all three layouts. build.sh --test runs it.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "emu_runtime.h"

static uint16_t bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
static float widen(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int check(const char* layout, int bm, int bn, int M, int N, int K, int even) {
    const bool ta = layout[0] == 't', tb = layout[1] == 't';
    std::vector<uint16_t> A((size_t)M * K), B((size_t)K * N);
    srand(M * 131 + N * 7 + K);
    for (auto& a : A) a = bf16((float)rand() / RAND_MAX * 2 - 1);
    for (auto& b : B) b = bf16((float)rand() / RAND_MAX * 2 - 1);
    std::vector<float> C((size_t)M * N, NAN);
    char name[64];
    snprintf(name, sizeof name, "gemm_tc_forward_%s_%dx%d%s", layout, bm, bn, even ? "_even" : "");
    const emu::KernelInfo* k = emu::find_kernel(name);
    if (!k) {
        printf("FAIL %s not registered\n", name);
        return 1;
    }
    void* c = C.data();
    const void* a = A.data();
    const void* b = B.data();
    long long zero = 0;
    float alpha = 1.0f;
    int accumulate = 0, outBf16 = 0, epilogue = 0;
    const float* bias = nullptr;
    void* aux = nullptr;
    void* params[] = {&c, &a, &b, &M, &N, &K, &zero, &zero, &zero, &alpha, &accumulate, &outBf16, &epilogue, &bias, &aux};
    const int threads = (bm == 64 ? 4 : bn == 128 ? 8 : 4) * 32;
    const unsigned smem = 4 * (bm * 32 + bn * 32) * 2;
    const char* err = emu::launch(k, {(unsigned)((N + bn - 1) / bn), (unsigned)((M + bm - 1) / bm), 1}, {(unsigned)threads, 1, 1},
                                  smem, params);
    if (err) {
        printf("FAIL %s: %s\n", name, err);
        return 1;
    }
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
            if (!(e <= worst)) worst = e;  // NaN counts as worst
        }
    const bool ok = worst < 1e-5;
    printf("%s %s M=%d N=%d K=%d worst %.3g\n", ok ? "ok  " : "FAIL", name, M, N, K, worst);
    return ok ? 0 : 1;
}

int main() {
    int failures = 0;
    for (const char* layout : {"nn", "nt", "tn"}) {
        failures += check(layout, 64, 64, 72, 80, 40, 0);  // the 16-byte copies need contiguous dimensions in multiples of 8
        failures += check(layout, 128, 64, 136, 64, 96, 0);
        failures += check(layout, 128, 128, 136, 136, 48, 0);
        failures += check(layout, 64, 64, 66, 34, 18, 1);
    }
    return failures ? 1 : 0;
}
