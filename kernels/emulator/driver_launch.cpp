// driver_launch.cpp: cuLaunchKernel: checks the launch configuration, then runs the kernel now or
// records it (arguments copied by value) into the capture of its stream.
#include "driver_internal.h"

using namespace cuemu;

// ==== launch ====

CUEMU_API cuLaunchKernel(CUfunction f, unsigned int gridX, unsigned int gridY, unsigned int gridZ, unsigned int blockX,
                         unsigned int blockY, unsigned int blockZ, unsigned int sharedMemBytes, CUstream stream,
                         void** kernelParams, void** extra) {
    LOCKED;
    const char* api = __func__;
    if (CUresult rc = gate(api)) return rc;
    if (!S.functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, api, format("%p is not a live function", (void*)f));
    const char* name = f->name.c_str();
    if (extra != nullptr) return fail(CUDA_ERROR_INVALID_VALUE, api, format("%s: the emulator takes kernelParams, not extra", name));
    if (gridX == 0 || gridY == 0 || gridZ == 0 || gridX > 2147483647u || gridY > 65535 || gridZ > 65535) {
        return fail(CUDA_ERROR_INVALID_VALUE, api, format("%s: grid (%u, %u, %u) is out of range", name, gridX, gridY, gridZ));
    }
    unsigned long long threads = 1ull * blockX * blockY * blockZ;
    if (blockX == 0 || blockY == 0 || blockZ == 0 || blockX > 1024 || blockY > 1024 || blockZ > 64 || threads > emu::MAX_THREADS_PER_BLOCK) {
        return fail(CUDA_ERROR_INVALID_VALUE, api, format("%s: block (%u, %u, %u) is out of range (at most %u threads)", name, blockX,
                                                          blockY, blockZ, emu::MAX_THREADS_PER_BLOCK));
    }
    if (threads > f->maxThreads) {
        return fail(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, api, format("%s: block of %llu threads exceeds the kernel's .maxntid (%u threads)",
                                                                    name, threads, f->maxThreads));
    }
    if (f->reqntid[0] && (blockX != f->reqntid[0] || blockY != f->reqntid[1] || blockZ != f->reqntid[2])) {
        return fail(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, api, format("%s: block (%u, %u, %u) differs from the kernel's .reqntid (%u, %u, %u)",
                                                                    name, blockX, blockY, blockZ, f->reqntid[0], f->reqntid[1], f->reqntid[2]));
    }
    if (sharedMemBytes > static_cast<unsigned>(f->maxDynamicShared)) {
        return fail(CUDA_ERROR_INVALID_VALUE, api, format("%s: %u bytes of dynamic shared memory exceed the kernel's limit of %d "
                                                          "(cuFuncSetAttribute MAX_DYNAMIC_SHARED_SIZE_BYTES)",
                                                          name, sharedMemBytes, f->maxDynamicShared));
    }
    const emu::KernelInfo* k = f->kernel;
    if (k->paramCount > 0 && kernelParams == nullptr) {
        return fail(CUDA_ERROR_INVALID_VALUE, api, format("%s: kernelParams is null but the kernel takes %d parameters", name, k->paramCount));
    }
    Capture* capture = nullptr;
    if (CUresult rc = routeStreamWork(api, stream, &capture)) return rc;
    emu::Dim3 grid{gridX, gridY, gridZ}, block{blockX, blockY, blockZ};
    if (capture == nullptr) return runKernel(k, grid, block, sharedMemBytes, kernelParams);
    // captured: the argument values are copied now, as CUDA does; later changes to them are not seen
    Op op;
    op.kind = Op::Kernel;
    op.api = api;
    op.kernel = k;
    op.grid = grid;
    op.block = block;
    op.dynamicSmem = sharedMemBytes;
    size_t offset = 0;
    for (int i = 0; i < k->paramCount; i++) {
        op.argOffsets.push_back(offset);
        offset = roundUp(offset + k->paramSizes[i], 16);  // keeps every value aligned for its type
    }
    op.args.resize(std::max<size_t>(offset, 1));
    for (int i = 0; i < k->paramCount; i++) {
        if (kernelParams[i] == nullptr) {
            invalidate(capture, api);
            return fail(CUDA_ERROR_INVALID_VALUE, api, format("%s: kernelParams[%d] is null", name, i));
        }
        memcpy(op.args.data() + op.argOffsets[i], kernelParams[i], k->paramSizes[i]);
    }
    capture->ops.push_back(std::move(op));
    return CUDA_SUCCESS;
}
