// fault_smoke.cpp: device memory from the emulated cuMemAlloc has a guard page at either end, and a
// kernel thread that touches one fails its launch with a message naming the allocation, the way a
// GPU stops such a kernel with CUDA_ERROR_ILLEGAL_ADDRESS; the next launch runs normally. Uses
// copy.cu's f32 -> bf16 kernel, launched with an element count past its buffers, and fault_smoke.cu's
// deep_stack, whose locals overflow a fiber's stack. build.sh --test runs it.
#include <stdio.h>
#include <string.h>

#include <string>

#include "emu_runtime.h"

extern "C" {
typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef void* CUcontext;
CUresult cuInit(unsigned);
CUresult cuDevicePrimaryCtxRetain(CUcontext*, int);
CUresult cuCtxSetCurrent(CUcontext);
CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);
CUresult cuMemFree_v2(CUdeviceptr);
}

namespace {

int failures = 0;

// Launches copy_forward_f32_to_bf16(out, in, n) on one block of 64 threads; "" when it succeeds.
std::string copy(CUdeviceptr out, CUdeviceptr in, long long n) {
    const emu::KernelInfo* k = emu::find_kernel("copy_forward_f32_to_bf16");
    if (!k) return "copy_forward_f32_to_bf16 is not registered";
    void* params[] = {&out, &in, &n};
    const char* err = emu::launch(k, {1, 1, 1}, {64, 1, 1}, 0, params);
    return err ? err : "";
}

void expect(const char* what, const std::string& message, const char* needle) {
    bool ok = needle == nullptr ? message.empty() : message.find(needle) != std::string::npos;
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, message.empty() ? "" : ": ", message.c_str());
    failures += !ok;
}

}  // namespace

int main() {
    CUcontext context = nullptr;
    if (cuInit(0) != 0 || cuDevicePrimaryCtxRetain(&context, 0) != 0 || cuCtxSetCurrent(context) != 0) {
        printf("FAIL cuInit, or the primary context\n");
        return 1;
    }
    const int n = 40;  // 160 bytes of f32 in, 80 bytes of bf16 out: neither ends on a 256-byte boundary
    CUdeviceptr in = 0, out = 0, wide = 0, big = 0;
    if (cuMemAlloc_v2(&in, n * 4) || cuMemAlloc_v2(&out, n * 2) || cuMemAlloc_v2(&wide, n * 4) || cuMemAlloc_v2(&big, 2 * n * 4)) {
        printf("FAIL cuMemAlloc\n");
        return 1;
    }
    float* host = reinterpret_cast<float*>(in);  // emulated device pointers are host addresses
    for (int i = 0; i < n; i++) host[i] = (float)i;
    expect("in bounds", copy(out, in, n), nullptr);
    expect("fresh device memory reads as NaN", std::to_string(reinterpret_cast<unsigned*>(wide)[n - 1]), "4294967295");
    expect("a read past the end", copy(wide, in, n + 4), "invalid read");
    expect("  names the allocation", copy(wide, in, n + 4), "0 bytes past the end of the 160-byte device allocation");
    expect("a write past the end", copy(out, big, n + 8), "invalid write");
    expect("  names the allocation", copy(out, big, n + 8), "0 bytes past the end of the 80-byte device allocation");
    // the page before the data is not guarded (the data ends at a page boundary): the guard page before it is
    expect("a read before the start", copy(out, in - 4096, n), "4096 bytes before the start of the 160-byte device allocation");
    expect("  names the thread", copy(out, in - 4096, n), "block (0,0,0) thread (0,0,0)");
    CUdeviceptr freed = wide;
    cuMemFree_v2(wide);
    expect("a freed buffer", copy(out, freed, n), "no live device allocation is there");
    expect("the next launch runs", copy(out, in, n), nullptr);
    unsigned short* bf = reinterpret_cast<unsigned short*>(out);
    expect("  and computes", bf[n - 1] == 0x421c ? "" : "bf16(39) is " + std::to_string(bf[n - 1]), nullptr);
    // a thread whose locals outgrow its fiber stack: the handler runs on the worker's signal stack
    const emu::KernelInfo* deep = emu::find_kernel("deep_stack");
    int depth = 96 * 1024;
    void* deepParams[] = {&out, &depth};
    const char* deepError = deep ? emu::launch(deep, {1, 1, 1}, {1, 1, 1}, 0, deepParams) : "deep_stack is not registered";
    expect("a fiber stack overflow", deepError ? deepError : "", "overflowed its 256 KiB fiber stack");
    expect("  and the next launch runs", copy(out, in, n), nullptr);
    cuMemFree_v2(in);
    cuMemFree_v2(out);
    cuMemFree_v2(big);
    printf("fault smoke: %s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
