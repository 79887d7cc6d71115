// fault_smoke.cu: a test kernel of the emulator's fault handling (test/fault_smoke.cpp runs it;
// build.sh --test translates this file with translate.py --kernel). Not a kernel family.
//
// deep_stack: each thread fills a local array larger than the emulator's fiber stack, as a
// kernel with huge per-thread local memory would (a GPU spills it to local memory and runs).
extern "C" __global__ void deep_stack(float* out, int n) {
    volatile float local[96 * 1024];  // 384 KiB: more than a fiber's 256 KiB stack
    for (int i = 0; i < n; i++) local[i] = (float)i;
    out[threadIdx.x] = local[n - 1];
}
