// driver_context.cpp: initialisation, the device, the primary context and error names; also
// the driver state and the helpers every other driver_*.cpp uses (state, the lock, fail, gate).
#include "driver_internal.h"

using namespace cuemu;

namespace {

thread_local CUctx_st* tCurrent = nullptr;

}  // namespace

namespace cuemu {

// Never destroyed: JVM threads may still call in while the process exits.
DriverState& state() {
    static DriverState* s = new DriverState();
    return *s;
}

std::mutex& driverMutex() {
    static std::mutex* m = new std::mutex();
    return *m;
}

std::string format(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

// Prints "cuda-emu: <api>: <why>" and returns code: the Java side sees only the code's name.
CUresult fail(CUresult code, const char* api, const std::string& why) {
    fprintf(stderr, "cuda-emu: %s: %s\n", api, why.c_str());
    return code;
}

// Initialised, a live context current on this thread, and not failed: what most calls need.
CUresult gate(const char* api) {
    DriverState& S = state();
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (tCurrent == nullptr) return fail(CUDA_ERROR_INVALID_CONTEXT, api, "no context is current on this thread (cuCtxSetCurrent)");
    if (tCurrent->refcount == 0) return fail(CUDA_ERROR_INVALID_CONTEXT, api, "the current context was released (cuDevicePrimaryCtxRelease)");
    return S.sticky;
}

}  // namespace cuemu

namespace {

// The last release of the primary context destroys it, as in CUDA: everything it owned is freed
// and a failed context becomes usable again.
void resetContext() {
    DriverState& S = state();
    for (auto& [base, a] : S.allocations) free(reinterpret_cast<void*>(base));
    S.allocations.clear();
    S.deviceBytes = 0;
    while (!S.captures.empty()) endCapture(S.captures.back().get());
    for (CUmod_st* m : std::vector<CUmod_st*>(S.modules.begin(), S.modules.end())) destroyModule(m);
    for (CUstream_st* s : S.streams) delete s;
    for (CUevent_st* e : S.events) delete e;
    for (CUgraph_st* g : S.graphs) delete g;
    for (CUgraphExec_st* x : S.execs) delete x;
    S.streams.clear();
    S.events.clear();
    S.graphs.clear();
    S.execs.clear();
    S.sticky = CUDA_SUCCESS;
    S.primary.flags = 0;
}

CUresult checkDevice(CUdevice dev) { return dev == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE; }

// Values for cuDeviceGetAttribute, by CUdevice_attribute number; anything else reads 0.
int deviceAttribute(int attribute) {
    switch (attribute) {
    case 1: return emu::MAX_THREADS_PER_BLOCK;        // MAX_THREADS_PER_BLOCK
    case 2: case 3: return 1024;                      // MAX_BLOCK_DIM_X, _Y
    case 4: return 64;                                // MAX_BLOCK_DIM_Z
    case 5: return 2147483647;                        // MAX_GRID_DIM_X
    case 6: case 7: return 65535;                     // MAX_GRID_DIM_Y, _Z
    case 8: return emu::DEFAULT_SHARED_PER_BLOCK;     // MAX_SHARED_MEMORY_PER_BLOCK
    case 9: return 65536;                             // TOTAL_CONSTANT_MEMORY
    case 10: return 32;                               // WARP_SIZE
    case 11: return 2147483647;                       // MAX_PITCH
    case 12: return 65536;                            // MAX_REGISTERS_PER_BLOCK
    case 13: return 1410000;                          // CLOCK_RATE (kHz)
    case 14: return 512;                              // TEXTURE_ALIGNMENT
    case 15: return 1;                                // GPU_OVERLAP
    case 16: return kMultiprocessors;                 // MULTIPROCESSOR_COUNT
    case 19: return 1;                                // CAN_MAP_HOST_MEMORY
    case 30: return 512;                              // SURFACE_ALIGNMENT
    case 31: return 1;                                // CONCURRENT_KERNELS
    case 36: return 1215000;                          // MEMORY_CLOCK_RATE (kHz)
    case 37: return 5120;                             // GLOBAL_MEMORY_BUS_WIDTH
    case 38: return 40 << 20;                         // L2_CACHE_SIZE
    case 39: return 2048;                             // MAX_THREADS_PER_MULTIPROCESSOR
    case 40: return 2;                                // ASYNC_ENGINE_COUNT
    case 41: return 1;                                // UNIFIED_ADDRESSING
    case 51: return 32;                               // TEXTURE_PITCH_ALIGNMENT
    case 75: return kComputeMajor;                    // COMPUTE_CAPABILITY_MAJOR
    case 76: return kComputeMinor;                    // COMPUTE_CAPABILITY_MINOR
    case 78: return 1;                                // STREAM_PRIORITIES_SUPPORTED
    case 79: case 80: return 1;                       // GLOBAL_L1_CACHE_SUPPORTED, LOCAL_L1_CACHE_SUPPORTED
    case 81: return emu::MAX_SHARED_PER_BLOCK + 1024; // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
    case 82: return 65536;                            // MAX_REGISTERS_PER_MULTIPROCESSOR
    case 87: return 2;                                // SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO
    case 90: return 1;                                // COMPUTE_PREEMPTION_SUPPORTED
    case 97: return emu::MAX_SHARED_PER_BLOCK;        // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    case 106: return 32;                              // MAX_BLOCKS_PER_MULTIPROCESSOR
    case 111: return 1024;                            // RESERVED_SHARED_MEMORY_PER_BLOCK
    case 126: return 1;                               // MEM_SYNC_DOMAIN_COUNT
    default: return 0;                                // not supported / not emulated (managed memory, cooperative launch, ...)
    }
}

const struct ErrorText {
    CUresult code;
    const char* name;
    const char* text;
} kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_ILLEGAL_STATE, "CUDA_ERROR_ILLEGAL_STATE", "the operation cannot be performed in the present state"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_NOT_PERMITTED, "CUDA_ERROR_NOT_PERMITTED", "operation not permitted"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"},
    {CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "operation failed due to a previous error during capture"},
    {CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT", "operation would make the legacy stream depend on a capturing blocking stream"},
    {CUDA_ERROR_CAPTURED_EVENT, "CUDA_ERROR_CAPTURED_EVENT", "operation not permitted on an event last recorded in a capturing stream"},
    {CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD", "attempt to terminate a thread-local capture sequence from another thread"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const ErrorText* errorText(CUresult code) {
    for (const ErrorText& e : kErrors) {
        if (e.code == code) return &e;
    }
    return nullptr;
}

}  // namespace

// ==== initialisation, device, context ====

CUEMU_API cuInit(unsigned int flags) {
    LOCKED;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (!S.initialized) {
        const char* gib = getenv("CUDA_EMU_MEMORY_GIB");  // a smaller device, to test out-of-memory paths
        if (gib && atof(gib) > 0) S.totalMemory = static_cast<size_t>(atof(gib) * (1ull << 30));
        emu::catch_kernel_faults(describeDeviceAddress);  // an invalid access fails its launch, naming the buffer
        S.initialized = true;
    }
    return CUDA_SUCCESS;
}

CUEMU_API cuDriverGetVersion(int* version) {
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *version = kDriverVersion;
    return CUDA_SUCCESS;
}

CUEMU_API cuDeviceGetCount(int* count) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *count = 1;
    return CUDA_SUCCESS;
}

CUEMU_API cuDeviceGet(CUdevice* device, int ordinal) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

CUEMU_API cuDeviceGetName(char* name, int len, CUdevice dev) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (CUresult rc = checkDevice(dev)) return rc;
    if (name == nullptr || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, static_cast<size_t>(len), "%s", kDeviceName);
    return CUDA_SUCCESS;
}

CUEMU_API cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice dev) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (CUresult rc = checkDevice(dev)) return rc;
    int a = static_cast<int>(attribute);
    if (value == nullptr || a < 1 || a >= 256) return CUDA_ERROR_INVALID_VALUE;
    *value = deviceAttribute(a);
    return CUDA_SUCCESS;
}

CUEMU_API cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (CUresult rc = checkDevice(dev)) return rc;
    if (bytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *bytes = S.totalMemory;
    return CUDA_SUCCESS;
}

CUEMU_API cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice dev) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (CUresult rc = checkDevice(dev)) return rc;
    if (ctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    S.primary.refcount++;
    *ctx = &S.primary;
    return CUDA_SUCCESS;
}

CUEMU_API cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (CUresult rc = checkDevice(dev)) return rc;
    if (S.primary.refcount == 0) return CUDA_ERROR_INVALID_CONTEXT;
    if (--S.primary.refcount == 0) resetContext();
    return CUDA_SUCCESS;
}

CUEMU_API cuDevicePrimaryCtxReset_v2(CUdevice dev) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (CUresult rc = checkDevice(dev)) return rc;
    resetContext();  // the refcount stays: CUDA re-creates the context for its holders on next use
    return CUDA_SUCCESS;
}

CUEMU_API cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int* flags, int* active) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (CUresult rc = checkDevice(dev)) return rc;
    if (flags == nullptr || active == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *flags = S.primary.flags;
    *active = S.primary.refcount > 0;
    return CUDA_SUCCESS;
}

CUEMU_API cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned int flags) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (CUresult rc = checkDevice(dev)) return rc;
    S.primary.flags = flags;  // scheduling hints: nothing to schedule on the CPU
    return CUDA_SUCCESS;
}

CUEMU_API cuCtxSetCurrent(CUcontext ctx) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx != nullptr && ctx != &S.primary) return CUDA_ERROR_INVALID_CONTEXT;
    tCurrent = ctx;
    return CUDA_SUCCESS;
}

CUEMU_API cuCtxGetCurrent(CUcontext* ctx) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *ctx = tCurrent;
    return CUDA_SUCCESS;
}

CUEMU_API cuCtxGetDevice(CUdevice* device) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *device = 0;
    return CUDA_SUCCESS;
}

CUEMU_API cuCtxSynchronize(void) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (S.captures.empty()) return CUDA_SUCCESS;  // all work already ran
    fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, __func__, "the context cannot be synchronized while a stream is being captured");
    for (auto& c : S.captures) invalidate(c.get(), __func__);
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

// ==== errors ====

CUEMU_API cuGetErrorName(CUresult error, const char** str) {
    if (str == nullptr) return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* e = errorText(error);
    *str = e ? e->name : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUEMU_API cuGetErrorString(CUresult error, const char** str) {
    if (str == nullptr) return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* e = errorText(error);
    *str = e ? e->text : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
