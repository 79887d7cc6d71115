// driver_internal.h: what the driver_*.cpp files share: the cuda.h types they use, the handle
// structs, recorded stream work (Op, Capture), the driver state and the helpers one file defines
// and others call (namespace cuemu, hidden from the library's exports). Together those files are
// the CUDA driver API that JCuda's native library calls, emulated on the CPU; they reach the
// device side only through emu::find_kernel and emu::launch (emu_runtime.h).
#pragma once
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

// Build a driver_*.cpp with -DCUEMU_CHECK_AGAINST_CUDA_H -fsyntax-only -I<cuda>/include to check
// its signatures against the toolkit's cuda.h; the normal build needs no CUDA toolkit.
#ifdef CUEMU_CHECK_AGAINST_CUDA_H
#include <cuda.h>
#else
// The few cuda.h types and enumerators the driver uses, with cuda.h's names and values (CUDA 12/13).
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

namespace cuemu __attribute__((visibility("hidden"))) {

inline constexpr int kDriverVersion = 13000;  // CUDA 13.0: accepts PTX ISA up to 9.0
inline constexpr int kMaxPtxMajor = 9, kMaxPtxMinor = 0;
inline constexpr int kComputeMajor = 9, kComputeMinor = 0;  // Hopper: the sm_90a families load
inline constexpr int kSmTarget = 10 * kComputeMajor + kComputeMinor;
inline constexpr int kMultiprocessors = 4;
inline constexpr const char* kDeviceName = "CUDA emulator on the CPU (electra-java)";
inline constexpr size_t kDefaultTotalMemory = 16ull << 30;
inline constexpr size_t kDeviceAlign = 256;   // cuMemAlloc's alignment guarantee (kept for sizes that are multiples of it)
inline constexpr size_t kHostAlign = 4096;    // pinned host memory is page aligned
inline constexpr unsigned kStreamNonBlocking = 0x1;
inline constexpr unsigned kEventDisableTiming = 0x2, kEventValidFlags = 0x1 | 0x2 | 0x4;
inline constexpr unsigned kHostAllocValidFlags = 0x1 | 0x2 | 0x4;  // PORTABLE | DEVICEMAP | WRITECOMBINED
inline const CUstream kStreamLegacy = reinterpret_cast<CUstream>(0x1);
inline const CUstream kStreamPerThread = reinterpret_cast<CUstream>(0x2);

using Clock = std::chrono::steady_clock;

}  // namespace cuemu

// ---- the model, which every driver_*.cpp keeps to ----
//
// One device, one primary context. Device memory is host memory (a CUdeviceptr is a host
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
    cuemu::Clock::time_point when;
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

namespace cuemu __attribute__((visibility("hidden"))) {

struct Allocation {
    size_t bytes;  // as requested: ranges are checked against this, not the rounded size
    bool pinned;   // cuMemHostAlloc / cuMemAllocHost, not device memory
};

// Device memory is a mapping of its own: [guard page][... data][guard page], the data ending where
// the second guard begins, so a kernel that reads or writes past either end of its
// buffer faults there and its launch fails, naming the allocation (see emu::catch_kernel_faults).
struct GuardedMapping {
    uintptr_t base;  // of the whole mapping, guards included
    size_t mappedBytes;
    uintptr_t data;  // what cuMemAlloc returned
    size_t bytes;    // as requested
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

// A stream argument: 0 and CU_STREAM_LEGACY are the legacy default stream, CU_STREAM_PER_THREAD
// the per-thread one (neither can be captured here), anything else must be a live stream.
struct StreamRef {
    CUstream_st* stream = nullptr;  // nullptr: a default stream
    bool legacy = false;
};

// ---- defined in driver_context.cpp ----
DriverState& state();  // never destroyed: JVM threads may still call in while the process exits
std::mutex& driverMutex();
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
CUresult fail(CUresult code, const char* api, const std::string& why);
CUresult gate(const char* api);

// ---- defined in driver_memory.cpp ----
std::string memoryProblem(const Op& op, bool capturing);
void describeDeviceAddress(uintptr_t address, char* out, size_t outBytes);  // an emu::AddressDescriber

// ---- defined in driver_streams.cpp ----
CUresult resolveStream(const char* api, CUstream h, StreamRef& out);
CUresult routeStreamWork(const char* api, CUstream h, Capture** capture);
CUresult runKernel(const emu::KernelInfo* k, emu::Dim3 grid, emu::Dim3 block, unsigned smem, void* const* params);
CUresult runOp(const Op& op, bool replay);

// ---- defined in driver_modules.cpp ----
void destroyModule(CUmod_st* m);

// ---- defined in driver_graphs.cpp ----
Capture* activeCapture(uint64_t id);
void invalidate(Capture* c, const char* api);
void endCapture(Capture* c);
CUresult refuseIfCapturing(const char* api);
CUresult refuseLegacyDuringBlockingCapture(const char* api, bool invalidating);

inline size_t roundUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

}  // namespace cuemu

// Every entry point starts with this: the driver lock and S, the driver state.
#define LOCKED                                      \
    std::lock_guard<std::mutex> lock_(driverMutex()); \
    DriverState& S = state();                        \
    (void)S
