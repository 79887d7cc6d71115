// driver.cpp: the CUDA driver API as JCuda's native library (libJCudaDriver) calls it, emulated on
// the CPU. Built into libcuda.so.1 together with runtime.cpp and the kernels compiled for the host;
// the device side is reached only through emu::find_kernel and emu::launch (emu_runtime.h).
//
// Model: one device, one primary context. Device memory is host memory (a CUdeviceptr is a host
// address), so every copy and memset is checked against the allocation it falls in: a range that
// runs past its allocation is CUDA_ERROR_INVALID_VALUE with a one-line reason on stderr. Work runs
// synchronously when it is enqueued, except on a stream that is being captured: then it is recorded
// (kernel arguments copied by value, as CUDA does) and replayed by cuGraphLaunch.
//
// Sticky errors: a kernel that fails (emu::launch returns a message) makes every later call that
// needs the context return CUDA_ERROR_LAUNCH_FAILED, as a real GPU does; a graph replay whose copy
// or memset hits memory freed since the capture does the same with CUDA_ERROR_ILLEGAL_ADDRESS.
// Unlike a real driver, the failure clears when the last cuDevicePrimaryCtxRelease drops the
// primary context (which also frees everything it owned), so later tests in the same JVM start on
// a fresh context. Teardown calls (free, unload, destroy, release) keep working while it is failed.
//
// Build with -DCUEMU_CHECK_AGAINST_CUDA_H -fsyntax-only -I<cuda>/include to check every signature
// here against the toolkit's cuda.h; the normal build needs no CUDA toolkit.
#include "emu_runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#ifdef CUEMU_CHECK_AGAINST_CUDA_H
#include <cuda.h>
#else
// The few cuda.h types and enumerators this file uses, with cuda.h's names and values (CUDA 12/13).
extern "C" {
typedef enum cudaError_enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_DEINITIALIZED = 4,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_PTX = 218,
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_ILLEGAL_STATE = 401,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_PERMITTED = 800,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    CUDA_ERROR_STREAM_CAPTURE_IMPLICIT = 906,
    CUDA_ERROR_CAPTURED_EVENT = 907,
    CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908,
    CUDA_ERROR_UNKNOWN = 999
} CUresult;

typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st* CUcontext;
typedef struct CUmod_st* CUmodule;
typedef struct CUfunc_st* CUfunction;
typedef struct CUstream_st* CUstream;
typedef struct CUevent_st* CUevent;
typedef struct CUgraph_st* CUgraph;
typedef struct CUgraphExec_st* CUgraphExec;

typedef enum CUdevice_attribute_enum { CU_DEVICE_ATTRIBUTE_MAX = 256 } CUdevice_attribute;  // read by number below

typedef enum CUfunction_attribute_enum {
    CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0,
    CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1,
    CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES = 2,
    CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3,
    CU_FUNC_ATTRIBUTE_NUM_REGS = 4,
    CU_FUNC_ATTRIBUTE_PTX_VERSION = 5,
    CU_FUNC_ATTRIBUTE_BINARY_VERSION = 6,
    CU_FUNC_ATTRIBUTE_CACHE_MODE_CA = 7,
    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
    CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT = 9,
    CU_FUNC_ATTRIBUTE_CLUSTER_SIZE_MUST_BE_SET = 10,
    CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH = 11,
    CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT = 12,
    CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH = 13,
    CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED = 14,
    CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE = 15
} CUfunction_attribute;

typedef enum CUjit_option_enum {
    CU_JIT_INFO_LOG_BUFFER = 3,
    CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4,
    CU_JIT_ERROR_LOG_BUFFER = 5,
    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6
} CUjit_option;

typedef enum CUstreamCaptureMode_enum {
    CU_STREAM_CAPTURE_MODE_GLOBAL = 0,
    CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1,
    CU_STREAM_CAPTURE_MODE_RELAXED = 2
} CUstreamCaptureMode;

typedef enum CUstreamCaptureStatus_enum {
    CU_STREAM_CAPTURE_STATUS_NONE = 0,
    CU_STREAM_CAPTURE_STATUS_ACTIVE = 1,
    CU_STREAM_CAPTURE_STATUS_INVALIDATED = 2
} CUstreamCaptureStatus;
}
#endif

// Every entry point: C linkage, exported from the library (gen-stubs.sh finds the names by this macro).
#define CUEMU_API extern "C" __attribute__((visibility("default"))) CUresult

namespace {

constexpr int kDriverVersion = 13000;  // CUDA 13.0: accepts PTX ISA up to 9.0
constexpr int kMaxPtxMajor = 9, kMaxPtxMinor = 0;
constexpr int kComputeMajor = 8, kComputeMinor = 0;
constexpr int kSmTarget = 10 * kComputeMajor + kComputeMinor;
constexpr int kMultiprocessors = 4;
constexpr const char* kDeviceName = "CUDA emulator on the CPU (electra-java)";
constexpr size_t kDefaultTotalMemory = 16ull << 30;
constexpr size_t kDeviceAlign = 256;   // cuMemAlloc's alignment guarantee
constexpr size_t kHostAlign = 4096;    // pinned host memory is page aligned
constexpr unsigned kStreamNonBlocking = 0x1;
constexpr unsigned kEventDisableTiming = 0x2, kEventValidFlags = 0x1 | 0x2 | 0x4;
constexpr unsigned kHostAllocValidFlags = 0x1 | 0x2 | 0x4;  // PORTABLE | DEVICEMAP | WRITECOMBINED
const CUstream kStreamLegacy = reinterpret_cast<CUstream>(0x1);
const CUstream kStreamPerThread = reinterpret_cast<CUstream>(0x2);

using Clock = std::chrono::steady_clock;

}  // namespace

// ---- handle types (cuda.h declares them as opaque struct pointers) ----

struct CUctx_st {
    int refcount = 0;  // primary context retains minus releases; 0 = inactive
    unsigned flags = 0;
};

struct Capture;

struct CUstream_st {
    unsigned flags = 0;
    Capture* capture = nullptr;  // the capture sequence recording this stream's work, if any
};

struct CUevent_st {
    unsigned flags = 0;
    bool recorded = false;        // has a timestamp from an executed record
    Clock::time_point when;
    uint64_t captureId = 0;       // last recorded into this capture sequence, not executed
};

struct CUmod_st;

struct CUfunc_st {
    CUmod_st* module = nullptr;
    std::string name;
    const emu::KernelInfo* kernel = nullptr;
    unsigned maxThreads = emu::MAX_THREADS_PER_BLOCK;  // .maxntid, else the device limit
    unsigned reqntid[3] = {0, 0, 0};                   // .reqntid, or zeros
    int ptxVersion = 0;                                // 10 * major + minor
    int maxDynamicShared = emu::DEFAULT_SHARED_PER_BLOCK;
    int carveout = -1;
    std::map<int, int> settable;  // other settable attributes, stored and reported back
};

struct CUmod_st {
    std::vector<std::unique_ptr<CUfunc_st>> functions;
};

// One unit of stream work, recorded by a capture (or built for eager execution).
struct Op {
    enum Kind { Kernel, Memset, Copy, EventRecord, Graph } kind = Kernel;
    const char* api = "";  // the call that enqueued it, for messages
    // Kernel: the argument values, each at its offset in args
    const emu::KernelInfo* kernel = nullptr;
    emu::Dim3 grid{1, 1, 1}, block{1, 1, 1};
    unsigned dynamicSmem = 0;
    std::vector<unsigned char> args;
    std::vector<size_t> argOffsets;
    // Memset (elemBytes 1, 2 or 4; count elements) and Copy
    enum CopyKind { HtoD, DtoH, DtoD } copyKind = DtoD;
    uintptr_t dst = 0, src = 0;
    size_t bytes = 0, count = 0;
    unsigned value = 0, elemBytes = 1;
    // EventRecord
    CUevent_st* event = nullptr;
    // Graph (a graph launched into a capturing stream)
    std::shared_ptr<const std::vector<Op>> graph;
};
using OpList = std::vector<Op>;

struct CUgraph_st {
    std::shared_ptr<const OpList> ops;
};

struct CUgraphExec_st {
    std::shared_ptr<const OpList> ops;  // shared with the graph; CUDA's exec is independent of it
};

struct Capture {
    uint64_t id = 0;
    CUstream_st* stream = nullptr;
    CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
    std::thread::id thread;
    bool invalidated = false;
    OpList ops;
};

namespace {

struct Allocation {
    size_t bytes;  // as requested: ranges are checked against this, not the rounded size
    bool pinned;   // cuMemHostAlloc / cuMemAllocHost, not device memory
};

struct DriverState {
    bool initialized = false;
    CUctx_st primary;
    CUresult sticky = CUDA_SUCCESS;
    size_t totalMemory = kDefaultTotalMemory;
    size_t deviceBytes = 0;
    std::map<uintptr_t, Allocation> allocations;  // by base address
    std::unordered_set<CUstream_st*> streams;
    std::unordered_set<CUevent_st*> events;
    std::unordered_set<CUmod_st*> modules;
    std::unordered_set<CUfunc_st*> functions;
    std::unordered_set<CUgraph_st*> graphs;
    std::unordered_set<CUgraphExec_st*> execs;
    std::vector<std::unique_ptr<Capture>> captures;  // begun and not yet ended
    uint64_t nextCaptureId = 1;
};

// Never destroyed: JVM threads may still call in while the process exits.
DriverState& state() {
    static DriverState* s = new DriverState();
    return *s;
}

std::mutex& driverMutex() {
    static std::mutex* m = new std::mutex();
    return *m;
}

#define LOCKED                                      \
    std::lock_guard<std::mutex> lock_(driverMutex()); \
    DriverState& S = state();                        \
    (void)S

thread_local CUctx_st* tCurrent = nullptr;
thread_local CUstreamCaptureMode tCaptureMode = CU_STREAM_CAPTURE_MODE_GLOBAL;

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
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

size_t roundUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

// ---- memory registry ----

const std::pair<const uintptr_t, Allocation>* allocationAt(uintptr_t p) {
    auto& all = state().allocations;
    auto it = all.upper_bound(p);
    if (it == all.begin()) return nullptr;
    --it;
    return p < it->first + it->second.bytes ? &*it : nullptr;
}

std::string rangeText(uintptr_t p, size_t n) { return format("[0x%llx, +%zu bytes)", (unsigned long long)p, n); }

// Why [p, p+n) is not inside one live device allocation, or "" when it is.
std::string deviceRangeProblem(uintptr_t p, size_t n) {
    if (p == 0) return "is a null device pointer";
    auto* a = allocationAt(p);
    if (!a) return rangeText(p, n) + " is not device memory (no live cuMemAlloc holds it)";
    if (a->second.pinned) return rangeText(p, n) + " is pinned host memory, not device memory";
    size_t room = a->first + a->second.bytes - p;
    if (n > room) {
        return rangeText(p, n) + format(" runs %zu bytes past the end of its %zu-byte allocation at 0x%llx", n - room,
                                        a->second.bytes, (unsigned long long)a->first);
    }
    return "";
}

// Why [p, p+n) is not usable host memory, or "": device memory is refused (a CUdeviceptr passed as
// a host pointer would fault on a GPU), pinned memory is held to its allocation; other host memory
// cannot be checked.
std::string hostRangeProblem(uintptr_t p, size_t n, bool mustBePinned) {
    if (p == 0) return "is a null host pointer";
    auto* a = allocationAt(p);
    if (a && !a->second.pinned) return rangeText(p, n) + " is device memory, not host memory";
    if (!a) return mustBePinned ? rangeText(p, n) + " is pageable host memory (not from cuMemHostAlloc)" : "";
    size_t room = a->first + a->second.bytes - p;
    if (n > room) {
        return rangeText(p, n) + format(" runs %zu bytes past the end of its %zu-byte pinned allocation at 0x%llx",
                                        n - room, a->second.bytes, (unsigned long long)a->first);
    }
    return "";
}

// Why a copy or memset cannot run on memory as it is now, or "". While capturing, host memory
// must be pinned: CUDA refuses to capture copies from or to pageable memory.
std::string memoryProblem(const Op& op, bool capturing) {
    std::string why;
    if (op.kind == Op::Memset) {
        if (op.dst % op.elemBytes != 0) return format("destination 0x%llx is not %u-byte aligned", (unsigned long long)op.dst, op.elemBytes);
        why = deviceRangeProblem(op.dst, op.count * op.elemBytes);
        return why.empty() ? "" : "destination " + why;
    }
    if (op.kind != Op::Copy) return "";
    why = op.copyKind == Op::HtoD ? deviceRangeProblem(op.dst, op.bytes) : op.copyKind == Op::DtoH
            ? hostRangeProblem(op.dst, op.bytes, capturing) : deviceRangeProblem(op.dst, op.bytes);
    if (!why.empty()) return "destination " + why;
    why = op.copyKind == Op::HtoD ? hostRangeProblem(op.src, op.bytes, capturing) : deviceRangeProblem(op.src, op.bytes);
    return why.empty() ? "" : "source " + why;
}

// ---- context, capture and stream bookkeeping ----

// Initialised, a live context current on this thread, and not failed: what most calls need.
CUresult gate(const char* api) {
    DriverState& S = state();
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (tCurrent == nullptr) return fail(CUDA_ERROR_INVALID_CONTEXT, api, "no context is current on this thread (cuCtxSetCurrent)");
    if (tCurrent->refcount == 0) return fail(CUDA_ERROR_INVALID_CONTEXT, api, "the current context was released (cuDevicePrimaryCtxRelease)");
    return S.sticky;
}

Capture* activeCapture(uint64_t id) {
    if (id == 0) return nullptr;
    for (auto& c : state().captures) {
        if (c->id == id) return c.get();
    }
    return nullptr;
}

void invalidate(Capture* c, const char* api) {
    if (c->invalidated) return;
    c->invalidated = true;
    fprintf(stderr, "cuda-emu: %s: the stream capture is invalidated (cuStreamEndCapture will return "
                    "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED)\n", api);
}

void endCapture(Capture* c) {
    c->stream->capture = nullptr;
    auto& all = state().captures;
    all.erase(std::remove_if(all.begin(), all.end(), [c](const std::unique_ptr<Capture>& p) { return p.get() == c; }), all.end());
}

// A "potentially unsafe" call (cuMemAlloc, cuMemFree, pinned host allocation, synchronous copies)
// is refused while a capture that this thread's mode respects is in progress, as in CUDA: the
// call would not become part of the graph. That capture is invalidated.
CUresult refuseIfCapturing(const char* api) {
    if (tCaptureMode == CU_STREAM_CAPTURE_MODE_RELAXED) return CUDA_SUCCESS;
    CUresult rc = CUDA_SUCCESS;
    for (auto& c : state().captures) {
        if (c->mode == CU_STREAM_CAPTURE_MODE_RELAXED) continue;
        bool mine = c->thread == std::this_thread::get_id();
        bool global = tCaptureMode == CU_STREAM_CAPTURE_MODE_GLOBAL && c->mode == CU_STREAM_CAPTURE_MODE_GLOBAL;
        if (mine || global) {
            if (rc == CUDA_SUCCESS) {
                fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, api, "not permitted while a stream capture is in progress "
                     "(it is not stream work and would not be part of the graph)");
            }
            invalidate(c.get(), api);
            rc = CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
        }
    }
    return rc;
}

// Work on the legacy default stream waits for every blocking stream: refused while one captures.
CUresult refuseLegacyDuringBlockingCapture(const char* api, bool invalidating) {
    CUresult rc = CUDA_SUCCESS;
    for (auto& c : state().captures) {
        if (c->stream->flags & kStreamNonBlocking) continue;
        if (rc == CUDA_SUCCESS) {
            fail(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, api, "the legacy default stream would wait for a blocking stream that is being captured");
        }
        if (invalidating) invalidate(c.get(), api);
        rc = CUDA_ERROR_STREAM_CAPTURE_IMPLICIT;
    }
    return rc;
}

// A stream argument: 0 and CU_STREAM_LEGACY are the legacy default stream, CU_STREAM_PER_THREAD
// the per-thread one (neither can be captured here), anything else must be a live stream.
struct StreamRef {
    CUstream_st* stream = nullptr;  // nullptr: a default stream
    bool legacy = false;
};

CUresult resolveStream(const char* api, CUstream h, StreamRef& out) {
    out = StreamRef{};
    if (h == nullptr || h == kStreamLegacy) {
        out.legacy = true;
        return CUDA_SUCCESS;
    }
    if (h == kStreamPerThread) return CUDA_SUCCESS;
    if (!state().streams.count(h)) return fail(CUDA_ERROR_INVALID_HANDLE, api, format("%p is not a live stream", (void*)h));
    out.stream = h;
    return CUDA_SUCCESS;
}

// Where work enqueued on stream h goes: *capture is the capture recording it, or nullptr to run now.
CUresult routeStreamWork(const char* api, CUstream h, Capture** capture) {
    *capture = nullptr;
    StreamRef ref;
    if (CUresult rc = resolveStream(api, h, ref)) return rc;
    if (ref.legacy) return refuseLegacyDuringBlockingCapture(api, true);
    if (ref.stream && ref.stream->capture) {
        if (ref.stream->capture->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        *capture = ref.stream->capture;
    }
    return CUDA_SUCCESS;
}

// ---- executing work ----

CUresult runKernel(const emu::KernelInfo* k, emu::Dim3 grid, emu::Dim3 block, unsigned smem, void* const* params) {
    const char* message = emu::launch(k, grid, block, smem, params);
    if (message == nullptr) return CUDA_SUCCESS;
    fprintf(stderr, "cuda-emu: %s\n", message);
    fprintf(stderr, "cuda-emu: the context is now failed: calls return CUDA_ERROR_LAUNCH_FAILED until the primary context is released\n");
    state().sticky = CUDA_ERROR_LAUNCH_FAILED;
    return CUDA_ERROR_LAUNCH_FAILED;
}

void performMemory(const Op& op) {
    if (op.kind == Op::Copy) {
        memmove(reinterpret_cast<void*>(op.dst), reinterpret_cast<const void*>(op.src), op.bytes);
        return;
    }
    if (op.elemBytes == 1) {
        memset(reinterpret_cast<void*>(op.dst), static_cast<int>(op.value & 0xff), op.count);
    } else if (op.elemBytes == 2) {
        uint16_t v = static_cast<uint16_t>(op.value);
        uint16_t* d = reinterpret_cast<uint16_t*>(op.dst);
        std::fill(d, d + op.count, v);
    } else {
        uint32_t* d = reinterpret_cast<uint32_t*>(op.dst);
        std::fill(d, d + op.count, static_cast<uint32_t>(op.value));
    }
}

void recordEventNow(CUevent_st* e) {
    e->recorded = true;
    e->when = Clock::now();
    e->captureId = 0;
}

// Runs one op now. A replayed copy or memset on memory that is no longer valid is a device fault
// (sticky CUDA_ERROR_ILLEGAL_ADDRESS); an eager one is refused with CUDA_ERROR_INVALID_VALUE.
CUresult runOp(const Op& op, bool replay) {
    switch (op.kind) {
    case Op::Kernel: {
        std::vector<void*> params(op.argOffsets.size());
        for (size_t i = 0; i < params.size(); i++) params[i] = const_cast<unsigned char*>(op.args.data()) + op.argOffsets[i];
        return runKernel(op.kernel, op.grid, op.block, op.dynamicSmem, params.data());
    }
    case Op::Memset:
    case Op::Copy: {
        std::string why = memoryProblem(op, false);
        if (!why.empty()) {
            if (!replay) return fail(CUDA_ERROR_INVALID_VALUE, op.api, why);
            fail(CUDA_ERROR_ILLEGAL_ADDRESS, "graph replay", std::string(op.api) + ": " + why + " (freed since the capture?)");
            fprintf(stderr, "cuda-emu: the context is now failed: calls return CUDA_ERROR_ILLEGAL_ADDRESS until the primary context is released\n");
            state().sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
            return CUDA_ERROR_ILLEGAL_ADDRESS;
        }
        performMemory(op);
        return CUDA_SUCCESS;
    }
    case Op::EventRecord:
        if (state().events.count(op.event)) recordEventNow(op.event);  // a destroyed event is skipped
        return CUDA_SUCCESS;
    case Op::Graph:
        for (const Op& inner : *op.graph) {
            if (CUresult rc = runOp(inner, true)) return rc;
        }
        return CUDA_SUCCESS;
    }
    return CUDA_ERROR_UNKNOWN;
}

// Enqueues a copy or memset: recorded when capturing (checked now, like CUDA's capture does),
// else run at once.
CUresult submitMemoryOp(Op&& op, Capture* capture) {
    if (capture) {
        std::string why = memoryProblem(op, true);
        if (!why.empty()) {
            bool pageable = why.find("pageable") != std::string::npos;
            CUresult rc = pageable ? CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED : CUDA_ERROR_INVALID_VALUE;
            fail(rc, op.api, why + (pageable ? ": a captured copy needs pinned host memory" : ""));
            invalidate(capture, op.api);
            return rc;
        }
        capture->ops.push_back(std::move(op));
        return CUDA_SUCCESS;
    }
    return runOp(op, false);
}

Op copyOp(const char* api, Op::CopyKind kind, uintptr_t dst, uintptr_t src, size_t bytes) {
    Op op;
    op.kind = Op::Copy;
    op.api = api;
    op.copyKind = kind;
    op.dst = dst;
    op.src = src;
    op.bytes = bytes;
    return op;
}

Op memsetOp(const char* api, uintptr_t dst, unsigned value, unsigned elemBytes, size_t count) {
    Op op;
    op.kind = Op::Memset;
    op.api = api;
    op.dst = dst;
    op.value = value;
    op.elemBytes = elemBytes;
    op.count = count;
    return op;
}

// The common path of every cuMemcpy*/cuMemset*: stream == nullptr with sync for the synchronous
// forms, which act on the legacy default stream and may not run during a capture.
CUresult enqueueMemoryOp(const char* api, Op&& op, bool sync, CUstream stream) {
    if (CUresult rc = gate(api)) return rc;
    if (op.kind == Op::Memset && op.count > SIZE_MAX / op.elemBytes) return fail(CUDA_ERROR_INVALID_VALUE, api, "the element count overflows");
    if ((op.kind == Op::Copy ? op.bytes : op.count) == 0) return CUDA_SUCCESS;
    Capture* capture = nullptr;
    if (sync) {
        if (CUresult rc = refuseIfCapturing(api)) return rc;
        if (CUresult rc = refuseLegacyDuringBlockingCapture(api, true)) return rc;
    } else if (CUresult rc = routeStreamWork(api, stream, &capture)) {
        return rc;
    }
    return submitMemoryOp(std::move(op), capture);
}

// ---- PTX ----

struct PtxEntry {
    std::string name;
    std::vector<size_t> paramSizes;
    unsigned maxntid[3] = {0, 0, 0};
    unsigned reqntid[3] = {0, 0, 0};
};

struct PtxText {
    int major = -1, minor = -1;  // .version
    int sm = -1;                 // .target sm_NN
    std::string target;
    std::vector<PtxEntry> entries;
};

// The text without comments (// to the end of the line, /* */); string literals such as .file
// paths keep their slashes.
std::string stripComments(const char* p) {
    std::string out;
    out.reserve(strlen(p));
    bool inString = false;
    while (*p) {
        if (inString) {
            if (*p == '\\' && p[1]) out += *p++;
            else if (*p == '"') inString = false;
            out += *p++;
        } else if (*p == '"') {
            inString = true;
            out += *p++;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n') p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char* end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
            out += ' ';
        } else {
            out += *p++;
        }
    }
    return out;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool isIdentChar(char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%'; }

// Positions of a directive (".entry", ".version") standing as a whole word.
std::vector<size_t> findDirective(const std::string& text, const char* directive) {
    std::vector<size_t> at;
    size_t len = strlen(directive);
    for (size_t pos = text.find(directive); pos != std::string::npos; pos = text.find(directive, pos + len)) {
        bool before = pos == 0 || isSpace(text[pos - 1]);
        bool after = pos + len == text.size() || !isIdentChar(text[pos + len]);
        if (before && after) at.push_back(pos);
    }
    return at;
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && isSpace(s[i])) i++;
        size_t start = i;
        while (i < s.size() && !isSpace(s[i])) i++;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

size_t ptxTypeBytes(const std::string& t) {
    static const std::map<std::string, size_t> sizes = {
        {".b8", 1},  {".u8", 1},  {".s8", 1},  {".b16", 2},  {".u16", 2}, {".s16", 2},    {".f16", 2},
        {".bf16", 2}, {".b32", 4}, {".u32", 4}, {".s32", 4},  {".f32", 4}, {".f16x2", 4}, {".bf16x2", 4},
        {".b64", 8}, {".u64", 8}, {".s64", 8}, {".f64", 8},  {".b128", 16}};
    auto it = sizes.find(t);
    return it == sizes.end() ? 0 : it->second;
}

// The byte size of one parameter declaration (".param .align 8 .b8 name[16]", ".param .u64 .ptr
// .global .align 4 name"), or 0 with why set.
size_t paramBytes(const std::string& decl, std::string& why) {
    std::vector<std::string> w = words(decl);
    if (w.empty() || w[0] != ".param") {
        why = "'" + decl + "' is not a .param";
        return 0;
    }
    size_t elem = 0;
    std::string rest;  // the name and any [N], possibly split by spaces
    for (size_t i = 1; i < w.size(); i++) {
        if (w[i] == ".align") {
            i++;  // its number
        } else if (w[i] == ".ptr" || w[i] == ".global" || w[i] == ".const" || w[i] == ".shared" || w[i] == ".local") {
            continue;
        } else if (w[i][0] == '.' && elem == 0) {
            elem = ptxTypeBytes(w[i]);
            if (elem == 0) {
                why = "unknown parameter type " + w[i] + " in '" + decl + "'";
                return 0;
            }
        } else {
            rest += w[i];
        }
    }
    if (elem == 0 || rest.empty()) {
        why = "cannot read '" + decl + "'";
        return 0;
    }
    size_t open = rest.find('[');
    if (open == std::string::npos) return elem;
    unsigned long n = strtoul(rest.c_str() + open + 1, nullptr, 10);
    if (n == 0) {
        why = "cannot read the array size in '" + decl + "'";
        return 0;
    }
    return elem * n;
}

// Reads up to three numbers after a directive such as ".maxntid 256, 1, 1".
void readDims(const std::string& text, const char* directive, unsigned dims[3]) {
    std::vector<size_t> at = findDirective(text, directive);
    if (at.empty()) return;
    const char* p = text.c_str() + at[0] + strlen(directive);
    dims[0] = dims[1] = dims[2] = 1;
    for (int i = 0; i < 3; i++) {
        while (*p && (isSpace(*p) || *p == ',')) p++;
        if (!isdigit(static_cast<unsigned char>(*p))) break;
        dims[i] = static_cast<unsigned>(strtoul(p, const_cast<char**>(&p), 10));
    }
}

// Reads the header and every .entry with its parameter sizes; returns why it cannot, or "".
std::string parsePtx(const std::string& text, PtxText& out) {
    std::vector<size_t> version = findDirective(text, ".version");
    if (version.empty() || sscanf(text.c_str() + version[0] + 8, " %d.%d", &out.major, &out.minor) != 2) {
        return "no '.version X.Y' directive: not PTX text";
    }
    std::vector<size_t> target = findDirective(text, ".target");
    if (!target.empty()) {
        size_t end = text.find('\n', target[0]);
        out.target = text.substr(target[0] + 7, end == std::string::npos ? std::string::npos : end - target[0] - 7);
        size_t sm = out.target.find("sm_");
        if (sm != std::string::npos) out.sm = atoi(out.target.c_str() + sm + 3);
        while (!out.target.empty() && isSpace(out.target.front())) out.target.erase(0, 1);
        while (!out.target.empty() && isSpace(out.target.back())) out.target.pop_back();
    }
    for (size_t pos : findDirective(text, ".entry")) {
        PtxEntry e;
        size_t i = pos + 6;
        while (i < text.size() && isSpace(text[i])) i++;
        size_t start = i;
        while (i < text.size() && isIdentChar(text[i])) i++;
        if (i == start) return "an .entry without a name";
        e.name = text.substr(start, i - start);
        while (i < text.size() && isSpace(text[i])) i++;
        if (i < text.size() && text[i] == '(') {
            size_t close = text.find(')', i);
            if (close == std::string::npos) return "the parameter list of .entry " + e.name + " is not closed";
            std::string list = text.substr(i + 1, close - i - 1);
            size_t from = 0;
            while (from <= list.size()) {
                size_t comma = list.find(',', from);
                std::string decl = list.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
                if (!words(decl).empty()) {
                    std::string why;
                    size_t bytes = paramBytes(decl, why);
                    if (bytes == 0) return ".entry " + e.name + ": " + why;
                    e.paramSizes.push_back(bytes);
                }
                if (comma == std::string::npos) break;
                from = comma + 1;
            }
            i = close + 1;
        }
        size_t body = text.find_first_of("{;", i);
        std::string directives = text.substr(i, body == std::string::npos ? std::string::npos : body - i);
        readDims(directives, ".maxntid", e.maxntid);
        readDims(directives, ".reqntid", e.reqntid);
        out.entries.push_back(std::move(e));
    }
    return "";
}

// Checks a parsed module against the kernels compiled into the emulator; one line per problem.
std::vector<std::string> bindEntries(const PtxText& ptx, std::vector<const emu::KernelInfo*>& kernels) {
    std::vector<std::string> problems;
    if (ptx.major > kMaxPtxMajor || (ptx.major == kMaxPtxMajor && ptx.minor > kMaxPtxMinor)) {
        problems.push_back(format("PTX ISA %d.%d is newer than this driver (CUDA %d.%d) accepts", ptx.major, ptx.minor,
                                  kDriverVersion / 1000, kDriverVersion % 1000 / 10));
        return problems;
    }
    if (ptx.sm > kSmTarget) {
        problems.push_back(format(".target %s is newer than the emulated device (sm_%d)", ptx.target.c_str(), kSmTarget));
        return problems;
    }
    for (const PtxEntry& e : ptx.entries) {
        const emu::KernelInfo* k = emu::find_kernel(e.name.c_str());
        kernels.push_back(k);
        if (k == nullptr) {
            problems.push_back("entry " + e.name + " is not compiled into the emulator (emu::find_kernel does not know it)");
            continue;
        }
        if (static_cast<size_t>(k->paramCount) != e.paramSizes.size()) {
            problems.push_back(format("entry %s: the PTX declares %zu parameters but the compiled host kernel takes %d "
                                      "(the committed PTX and the kernel source disagree)",
                                      e.name.c_str(), e.paramSizes.size(), k->paramCount));
            continue;
        }
        for (size_t i = 0; i < e.paramSizes.size(); i++) {
            if (k->paramSizes[i] != e.paramSizes[i]) {
                problems.push_back(format("entry %s: parameter %zu is %zu bytes in the PTX but %zu in the compiled host kernel "
                                          "(the committed PTX and the kernel source disagree)",
                                          e.name.c_str(), i, e.paramSizes[i], k->paramSizes[i]));
            }
        }
    }
    return problems;
}

// Copies s into a JIT log buffer of size bytes; returns the bytes written (without the NUL).
size_t writeLog(char* buf, size_t size, const std::string& s) {
    if (buf == nullptr || size == 0) return 0;
    size_t n = std::min(s.size(), size - 1);
    memcpy(buf, s.data(), n);
    buf[n] = '\0';
    return n;
}

CUresult loadModule(const char* api, CUmodule* module, const void* image, std::string& infoLog, std::string& errorLog) {
    if (CUresult rc = gate(api)) return rc;
    if (module == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    const unsigned char* bytes = static_cast<const unsigned char*>(image);
    if ((bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F') ||
        (bytes[0] == 0x50 && bytes[1] == 0xed && bytes[2] == 0x55 && bytes[3] == 0xba)) {
        const char* why = "the emulator loads PTX text only, not cubin or fatbin images";
        errorLog = std::string("cuda-emu: ") + why;
        return fail(CUDA_ERROR_INVALID_IMAGE, api, why);
    }
    PtxText ptx;
    std::string why = parsePtx(stripComments(static_cast<const char*>(image)), ptx);
    std::vector<const emu::KernelInfo*> kernels;
    std::vector<std::string> problems;
    if (!why.empty()) problems.push_back(why);
    else problems = bindEntries(ptx, kernels);
    if (!problems.empty()) {
        for (const std::string& p : problems) {
            fail(CUDA_ERROR_INVALID_PTX, api, p);
            errorLog += "cuda-emu: " + p + "\n";
        }
        bool tooNew = ptx.major > kMaxPtxMajor || (ptx.major == kMaxPtxMajor && ptx.minor > kMaxPtxMinor);
        return tooNew ? CUDA_ERROR_UNSUPPORTED_PTX_VERSION : CUDA_ERROR_INVALID_PTX;
    }
    CUmod_st* m = new CUmod_st();
    for (size_t i = 0; i < ptx.entries.size(); i++) {
        const PtxEntry& e = ptx.entries[i];
        bool duplicate = false;
        for (auto& f : m->functions) duplicate |= f->name == e.name;
        if (duplicate) continue;
        auto f = std::make_unique<CUfunc_st>();
        f->module = m;
        f->name = e.name;
        f->kernel = kernels[i];
        f->ptxVersion = 10 * ptx.major + ptx.minor;
        if (e.maxntid[0]) f->maxThreads = std::min(emu::MAX_THREADS_PER_BLOCK, e.maxntid[0] * e.maxntid[1] * e.maxntid[2]);
        std::copy(e.reqntid, e.reqntid + 3, f->reqntid);
        state().functions.insert(f.get());
        m->functions.push_back(std::move(f));
    }
    state().modules.insert(m);
    *module = m;
    infoLog = format("cuda-emu: %zu entries of PTX ISA %d.%d (.target %s) bound to kernels compiled for the host\n",
                     m->functions.size(), ptx.major, ptx.minor, ptx.target.c_str());
    return CUDA_SUCCESS;
}

void destroyModule(CUmod_st* m) {
    for (auto& f : m->functions) state().functions.erase(f.get());
    state().modules.erase(m);
    delete m;
}

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

// Memory allocation shared by cuMemAlloc and the pinned host allocators.
CUresult allocate(const char* api, size_t bytes, bool pinned, uintptr_t* out) {
    DriverState& S = state();
    size_t rounded = roundUp(std::max<size_t>(bytes, 1), pinned ? kHostAlign : kDeviceAlign);
    if (!pinned && (rounded > S.totalMemory || S.deviceBytes > S.totalMemory - rounded)) {
        return fail(CUDA_ERROR_OUT_OF_MEMORY, api, format("%zu bytes asked with %zu of %zu in use", bytes, S.deviceBytes, S.totalMemory));
    }
    void* p = aligned_alloc(pinned ? kHostAlign : kDeviceAlign, rounded);
    if (p == nullptr) return fail(CUDA_ERROR_OUT_OF_MEMORY, api, format("the host could not provide %zu bytes", rounded));
    S.allocations[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes, pinned};
    if (!pinned) S.deviceBytes += rounded;
    *out = reinterpret_cast<uintptr_t>(p);
    return CUDA_SUCCESS;
}

CUresult release(const char* api, uintptr_t p, bool pinned) {
    DriverState& S = state();
    auto it = S.allocations.find(p);
    if (it == S.allocations.end() || it->second.pinned != pinned) {
        auto* inside = allocationAt(p);
        std::string why = inside && inside->second.pinned != pinned
                ? format("0x%llx is %s memory", (unsigned long long)p, inside->second.pinned ? "pinned host" : "device")
                : inside ? format("0x%llx is inside the allocation at 0x%llx, not its start", (unsigned long long)p, (unsigned long long)inside->first)
                         : format("0x%llx is not a live allocation (freed twice?)", (unsigned long long)p);
        return fail(CUDA_ERROR_INVALID_VALUE, api, why);
    }
    if (!pinned) S.deviceBytes -= roundUp(std::max<size_t>(it->second.bytes, 1), kDeviceAlign);
    free(reinterpret_cast<void*>(p));
    S.allocations.erase(it);
    return CUDA_SUCCESS;
}

}  // namespace

// ==== initialisation, device, context ====

CUEMU_API cuInit(unsigned int flags) {
    LOCKED;
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (!S.initialized) {
        const char* gib = getenv("CUDA_EMU_MEMORY_GIB");  // a smaller device, to test out-of-memory paths
        if (gib && atof(gib) > 0) S.totalMemory = static_cast<size_t>(atof(gib) * (1ull << 30));
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

// ==== memory ====

CUEMU_API cuMemGetInfo_v2(size_t* freeBytes, size_t* totalBytes) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (freeBytes == nullptr || totalBytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *freeBytes = S.totalMemory - S.deviceBytes;
    *totalBytes = S.totalMemory;
    return CUDA_SUCCESS;
}

CUEMU_API cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (dptr == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult rc = refuseIfCapturing(__func__)) return rc;
    uintptr_t p = 0;
    if (CUresult rc = allocate(__func__, bytes, false, &p)) return rc;
    *dptr = p;
    return CUDA_SUCCESS;
}

CUEMU_API cuMemFree_v2(CUdeviceptr dptr) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (dptr == 0) return CUDA_SUCCESS;
    if (CUresult rc = refuseIfCapturing(__func__)) return rc;
    return release(__func__, dptr, false);
}

CUEMU_API cuMemHostAlloc(void** pp, size_t bytes, unsigned int flags) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (pp == nullptr || (flags & ~kHostAllocValidFlags)) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult rc = refuseIfCapturing(__func__)) return rc;
    uintptr_t p = 0;
    if (CUresult rc = allocate(__func__, bytes, true, &p)) return rc;
    *pp = reinterpret_cast<void*>(p);
    return CUDA_SUCCESS;
}

CUEMU_API cuMemAllocHost_v2(void** pp, size_t bytes) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (pp == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult rc = refuseIfCapturing(__func__)) return rc;
    uintptr_t p = 0;
    if (CUresult rc = allocate(__func__, bytes, true, &p)) return rc;
    *pp = reinterpret_cast<void*>(p);
    return CUDA_SUCCESS;
}

CUEMU_API cuMemFreeHost(void* p) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (p == nullptr) return CUDA_SUCCESS;
    if (CUresult rc = refuseIfCapturing(__func__)) return rc;
    return release(__func__, reinterpret_cast<uintptr_t>(p), true);
}

CUEMU_API cuMemGetAddressRange_v2(CUdeviceptr* base, size_t* size, CUdeviceptr dptr) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    auto* a = allocationAt(dptr);
    if (a == nullptr || a->second.pinned) return CUDA_ERROR_NOT_FOUND;
    if (base) *base = a->first;
    if (size) *size = a->second.bytes;
    return CUDA_SUCCESS;
}

CUEMU_API cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    LOCKED;
    return enqueueMemoryOp(__func__, copyOp(__func__, Op::HtoD, dst, reinterpret_cast<uintptr_t>(src), bytes), true, nullptr);
}

CUEMU_API cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream) {
    LOCKED;
    return enqueueMemoryOp(__func__, copyOp(__func__, Op::HtoD, dst, reinterpret_cast<uintptr_t>(src), bytes), false, stream);
}

CUEMU_API cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    LOCKED;
    return enqueueMemoryOp(__func__, copyOp(__func__, Op::DtoH, reinterpret_cast<uintptr_t>(dst), src, bytes), true, nullptr);
}

CUEMU_API cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream stream) {
    LOCKED;
    return enqueueMemoryOp(__func__, copyOp(__func__, Op::DtoH, reinterpret_cast<uintptr_t>(dst), src, bytes), false, stream);
}

CUEMU_API cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    LOCKED;
    return enqueueMemoryOp(__func__, copyOp(__func__, Op::DtoD, dst, src, bytes), true, nullptr);
}

CUEMU_API cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream) {
    LOCKED;
    return enqueueMemoryOp(__func__, copyOp(__func__, Op::DtoD, dst, src, bytes), false, stream);
}

CUEMU_API cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count) {
    LOCKED;
    return enqueueMemoryOp(__func__, memsetOp(__func__, dst, value, 1, count), true, nullptr);
}

CUEMU_API cuMemsetD16_v2(CUdeviceptr dst, unsigned short value, size_t count) {
    LOCKED;
    return enqueueMemoryOp(__func__, memsetOp(__func__, dst, value, 2, count), true, nullptr);
}

CUEMU_API cuMemsetD32_v2(CUdeviceptr dst, unsigned int value, size_t count) {
    LOCKED;
    return enqueueMemoryOp(__func__, memsetOp(__func__, dst, value, 4, count), true, nullptr);
}

CUEMU_API cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, CUstream stream) {
    LOCKED;
    return enqueueMemoryOp(__func__, memsetOp(__func__, dst, value, 1, count), false, stream);
}

CUEMU_API cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count, CUstream stream) {
    LOCKED;
    return enqueueMemoryOp(__func__, memsetOp(__func__, dst, value, 2, count), false, stream);
}

CUEMU_API cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, CUstream stream) {
    LOCKED;
    return enqueueMemoryOp(__func__, memsetOp(__func__, dst, value, 4, count), false, stream);
}

// ==== streams ====

CUEMU_API cuStreamCreate(CUstream* stream, unsigned int flags) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (stream == nullptr || (flags & ~kStreamNonBlocking)) return CUDA_ERROR_INVALID_VALUE;
    CUstream_st* s = new CUstream_st();
    s->flags = flags;
    S.streams.insert(s);
    *stream = s;
    return CUDA_SUCCESS;
}

CUEMU_API cuStreamCreateWithPriority(CUstream* stream, unsigned int flags, int priority) {
    (void)priority;  // one CPU runs everything in order: priorities change nothing
    return cuStreamCreate(stream, flags);
}

CUEMU_API cuStreamGetFlags(CUstream stream, unsigned int* flags) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    StreamRef ref;
    if (CUresult rc = resolveStream(__func__, stream, ref)) return rc;
    if (flags == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *flags = ref.stream ? ref.stream->flags : 0;
    return CUDA_SUCCESS;
}

CUEMU_API cuStreamDestroy_v2(CUstream stream) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!S.streams.count(stream)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live stream", (void*)stream));
    if (stream->capture) endCapture(stream->capture);  // its capture is abandoned
    S.streams.erase(stream);
    delete stream;
    return CUDA_SUCCESS;
}

CUEMU_API cuStreamSynchronize(CUstream stream) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    StreamRef ref;
    if (CUresult rc = resolveStream(__func__, stream, ref)) return rc;
    if (ref.legacy) return refuseLegacyDuringBlockingCapture(__func__, true);
    if (ref.stream && ref.stream->capture) {
        fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, __func__, "a stream cannot be synchronized while it is being captured");
        invalidate(ref.stream->capture, __func__);
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;  // its work already ran
}

CUEMU_API cuStreamQuery(CUstream stream) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    StreamRef ref;
    if (CUresult rc = resolveStream(__func__, stream, ref)) return rc;
    if (ref.legacy) return refuseLegacyDuringBlockingCapture(__func__, true);
    if (ref.stream && ref.stream->capture) {
        fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, __func__, "a stream cannot be queried while it is being captured");
        invalidate(ref.stream->capture, __func__);
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;
}

// ==== events ====

CUEMU_API cuEventCreate(CUevent* event, unsigned int flags) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (event == nullptr || (flags & ~kEventValidFlags)) return CUDA_ERROR_INVALID_VALUE;
    if ((flags & 0x4) && !(flags & kEventDisableTiming)) return CUDA_ERROR_INVALID_VALUE;  // INTERPROCESS needs DISABLE_TIMING
    CUevent_st* e = new CUevent_st();
    e->flags = flags;
    S.events.insert(e);
    *event = e;
    return CUDA_SUCCESS;
}

CUEMU_API cuEventDestroy_v2(CUevent event) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!S.events.count(event)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live event", (void*)event));
    S.events.erase(event);
    delete event;
    return CUDA_SUCCESS;
}

namespace {

CUresult recordEvent(const char* api, CUevent event, CUstream stream) {
    if (CUresult rc = gate(api)) return rc;
    if (!state().events.count(event)) return fail(CUDA_ERROR_INVALID_HANDLE, api, format("%p is not a live event", (void*)event));
    Capture* capture = nullptr;
    if (CUresult rc = routeStreamWork(api, stream, &capture)) return rc;
    if (capture == nullptr) {
        recordEventNow(event);
        return CUDA_SUCCESS;
    }
    Op op;
    op.kind = Op::EventRecord;
    op.api = api;
    op.event = event;
    capture->ops.push_back(std::move(op));
    event->captureId = capture->id;
    return CUDA_SUCCESS;
}

// Waiting on or querying an event whose last record is inside a capture in progress is refused.
CUresult checkEventNotCaptured(const char* api, CUevent_st* e) {
    if (Capture* c = activeCapture(e->captureId)) {
        fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, api, "the event was last recorded in a stream that is being captured");
        invalidate(c, api);
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;
}

}  // namespace

CUEMU_API cuEventRecord(CUevent event, CUstream stream) {
    LOCKED;
    return recordEvent(__func__, event, stream);
}

CUEMU_API cuEventRecordWithFlags(CUevent event, CUstream stream, unsigned int flags) {
    LOCKED;
    if (flags & ~1u) return CUDA_ERROR_INVALID_VALUE;  // CU_EVENT_RECORD_EXTERNAL changes nothing here
    return recordEvent(__func__, event, stream);
}

CUEMU_API cuEventQuery(CUevent event) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (!S.events.count(event)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live event", (void*)event));
    return checkEventNotCaptured(__func__, event);
}

CUEMU_API cuEventSynchronize(CUevent event) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (!S.events.count(event)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live event", (void*)event));
    return checkEventNotCaptured(__func__, event);
}

CUEMU_API cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (ms == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (CUevent e : {start, end}) {
        if (!S.events.count(e)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live event", (void*)e));
        if (CUresult rc = checkEventNotCaptured(__func__, e)) return rc;
        if (e->flags & kEventDisableTiming) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, "an event was created with CU_EVENT_DISABLE_TIMING");
        if (!e->recorded) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, "an event has not been recorded");
    }
    *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
    return CUDA_SUCCESS;
}

// ==== modules and functions ====

CUEMU_API cuModuleLoadData(CUmodule* module, const void* image) {
    LOCKED;
    std::string info, error;
    return loadModule(__func__, module, image, info, error);
}

CUEMU_API cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int numOptions, CUjit_option* options, void** optionValues) {
    LOCKED;
    if (numOptions > 0 && (options == nullptr || optionValues == nullptr)) return CUDA_ERROR_INVALID_VALUE;
    char* infoBuf = nullptr;
    char* errorBuf = nullptr;
    size_t infoSize = 0, errorSize = 0;
    int infoSizeAt = -1, errorSizeAt = -1;
    for (unsigned i = 0; i < numOptions; i++) {  // other JIT options (optimisation level, target...) mean nothing here
        switch (options[i]) {
        case CU_JIT_INFO_LOG_BUFFER: infoBuf = static_cast<char*>(optionValues[i]); break;
        case CU_JIT_ERROR_LOG_BUFFER: errorBuf = static_cast<char*>(optionValues[i]); break;
        case CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES:
            infoSize = static_cast<unsigned>(reinterpret_cast<uintptr_t>(optionValues[i]));
            infoSizeAt = static_cast<int>(i);
            break;
        case CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES:
            errorSize = static_cast<unsigned>(reinterpret_cast<uintptr_t>(optionValues[i]));
            errorSizeAt = static_cast<int>(i);
            break;
        default: break;
        }
    }
    std::string info, error;
    CUresult rc = loadModule(__func__, module, image, info, error);
    // the size options are in/out: on return they hold the bytes written
    size_t infoWritten = writeLog(infoBuf, infoSize, info);
    size_t errorWritten = writeLog(errorBuf, errorSize, error);
    if (infoSizeAt >= 0) optionValues[infoSizeAt] = reinterpret_cast<void*>(static_cast<uintptr_t>(infoWritten));
    if (errorSizeAt >= 0) optionValues[errorSizeAt] = reinterpret_cast<void*>(static_cast<uintptr_t>(errorWritten));
    return rc;
}

CUEMU_API cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (function == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (!S.modules.count(module)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a loaded module", (void*)module));
    for (auto& f : module->functions) {
        if (f->name == name) {
            *function = f.get();
            return CUDA_SUCCESS;
        }
    }
    return fail(CUDA_ERROR_NOT_FOUND, __func__, std::string("the module has no .entry ") + name);
}

CUEMU_API cuModuleUnload(CUmodule module) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!S.modules.count(module)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a loaded module", (void*)module));
    destroyModule(module);
    return CUDA_SUCCESS;
}

CUEMU_API cuFuncSetAttribute(CUfunction f, CUfunction_attribute attribute, int value) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (!S.functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live function", (void*)f));
    switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
        if (value < 0 || static_cast<unsigned>(value) > emu::MAX_SHARED_PER_BLOCK) {
            return fail(CUDA_ERROR_INVALID_VALUE, __func__, format("%s: %d bytes of dynamic shared memory exceed the device's opt-in limit of %u",
                                                                   f->name.c_str(), value, emu::MAX_SHARED_PER_BLOCK));
        }
        f->maxDynamicShared = value;
        return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
        if (value < -1 || value > 100) return CUDA_ERROR_INVALID_VALUE;
        f->carveout = value;
        return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
        f->settable[attribute] = value;  // stored, reported back; clusters are not emulated
        return CUDA_SUCCESS;
    default:
        return CUDA_ERROR_INVALID_VALUE;  // read-only attributes
    }
}

CUEMU_API cuFuncGetAttribute(int* value, CUfunction_attribute attribute, CUfunction f) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (!S.functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live function", (void*)f));
    switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = static_cast<int>(f->maxThreads); break;
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *value = 0; break;  // static shared memory is the device side's business
    case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: *value = 0; break;
    case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: *value = 0; break;
    case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = 32; break;
    case CU_FUNC_ATTRIBUTE_PTX_VERSION: *value = f->ptxVersion; break;
    case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *value = kSmTarget; break;
    case CU_FUNC_ATTRIBUTE_CACHE_MODE_CA: *value = 0; break;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *value = f->maxDynamicShared; break;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: *value = f->carveout; break;
    case CU_FUNC_ATTRIBUTE_CLUSTER_SIZE_MUST_BE_SET: *value = 0; break;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE: {
        auto it = f->settable.find(attribute);
        *value = it == f->settable.end() ? 0 : it->second;
        break;
    }
    default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

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

// ==== stream capture and graphs ====

CUEMU_API cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode* mode) {
    if (mode == nullptr || *mode < CU_STREAM_CAPTURE_MODE_GLOBAL || *mode > CU_STREAM_CAPTURE_MODE_RELAXED) return CUDA_ERROR_INVALID_VALUE;
    std::swap(*mode, tCaptureMode);
    return CUDA_SUCCESS;
}

CUEMU_API cuStreamBeginCapture_v2(CUstream stream, CUstreamCaptureMode mode) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (mode < CU_STREAM_CAPTURE_MODE_GLOBAL || mode > CU_STREAM_CAPTURE_MODE_RELAXED) return CUDA_ERROR_INVALID_VALUE;
    StreamRef ref;
    if (CUresult rc = resolveStream(__func__, stream, ref)) return rc;
    if (ref.stream == nullptr) return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, __func__, "the default stream cannot be captured here");
    if (ref.stream->capture) return fail(CUDA_ERROR_ILLEGAL_STATE, __func__, "the stream is already being captured");
    auto c = std::make_unique<Capture>();
    c->id = S.nextCaptureId++;
    c->stream = ref.stream;
    c->mode = mode;
    c->thread = std::this_thread::get_id();
    ref.stream->capture = c.get();
    S.captures.push_back(std::move(c));
    return CUDA_SUCCESS;
}

CUEMU_API cuStreamIsCapturing(CUstream stream, CUstreamCaptureStatus* status) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (status == nullptr) return CUDA_ERROR_INVALID_VALUE;
    StreamRef ref;
    if (CUresult rc = resolveStream(__func__, stream, ref)) return rc;
    if (ref.legacy) {
        if (CUresult rc = refuseLegacyDuringBlockingCapture(__func__, false)) return rc;
    }
    Capture* c = ref.stream ? ref.stream->capture : nullptr;
    *status = c == nullptr ? CU_STREAM_CAPTURE_STATUS_NONE : c->invalidated ? CU_STREAM_CAPTURE_STATUS_INVALIDATED : CU_STREAM_CAPTURE_STATUS_ACTIVE;
    return CUDA_SUCCESS;
}

CUEMU_API cuStreamEndCapture(CUstream stream, CUgraph* graph) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (graph == nullptr) return CUDA_ERROR_INVALID_VALUE;
    StreamRef ref;
    if (CUresult rc = resolveStream(__func__, stream, ref)) return rc;
    Capture* c = ref.stream ? ref.stream->capture : nullptr;
    if (c == nullptr) return fail(CUDA_ERROR_ILLEGAL_STATE, __func__, "the stream is not being captured");
    if (c->mode != CU_STREAM_CAPTURE_MODE_RELAXED && c->thread != std::this_thread::get_id()) {
        return fail(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, __func__, "the capture was begun on another thread");
    }
    bool invalidated = c->invalidated;
    auto ops = std::make_shared<const OpList>(std::move(c->ops));
    endCapture(c);
    if (invalidated) {
        *graph = nullptr;
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    CUgraph_st* g = new CUgraph_st();
    g->ops = std::move(ops);
    S.graphs.insert(g);
    *graph = g;
    return CUDA_SUCCESS;
}

CUEMU_API cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags) {
    LOCKED;
    (void)flags;  // auto-free-on-launch, upload, device launch, priority: nothing to do on the CPU
    if (CUresult rc = gate(__func__)) return rc;
    if (exec == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (!S.graphs.count(graph)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live graph", (void*)graph));
    CUgraphExec_st* x = new CUgraphExec_st();
    x->ops = graph->ops;
    S.execs.insert(x);
    *exec = x;
    return CUDA_SUCCESS;
}

CUEMU_API cuGraphLaunch(CUgraphExec exec, CUstream stream) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (!S.execs.count(exec)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live graph exec", (void*)exec));
    Capture* capture = nullptr;
    if (CUresult rc = routeStreamWork(__func__, stream, &capture)) return rc;
    Op op;
    op.kind = Op::Graph;
    op.api = __func__;
    op.graph = exec->ops;
    if (capture) {  // a graph launched into a capture becomes one (child graph) node
        capture->ops.push_back(std::move(op));
        return CUDA_SUCCESS;
    }
    return runOp(op, true);
}

CUEMU_API cuGraphDestroy(CUgraph graph) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!S.graphs.count(graph)) return fail(CUDA_ERROR_INVALID_VALUE, __func__, format("%p is not a live graph", (void*)graph));
    S.graphs.erase(graph);
    delete graph;
    return CUDA_SUCCESS;
}

CUEMU_API cuGraphExecDestroy(CUgraphExec exec) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!S.execs.count(exec)) return fail(CUDA_ERROR_INVALID_VALUE, __func__, format("%p is not a live graph exec", (void*)exec));
    S.execs.erase(exec);
    delete exec;
    return CUDA_SUCCESS;
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
