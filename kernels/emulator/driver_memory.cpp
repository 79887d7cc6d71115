// driver_memory.cpp: the allocation registry (device and pinned host memory), the range checks
// every copy and memset goes through, and the cuMem* entry points (alloc, free, copies, memsets).
#include "driver_internal.h"

#include <sys/mman.h>
#include <unistd.h>

using namespace cuemu;

namespace {

// ---- memory registry ----

// The guarded mappings of live device memory, by the address cuMemAlloc returned. Its own lock:
// the fault handler reads it with try_lock while a launch may hold the driver's.
std::mutex& guardMutex() {
    static std::mutex* m = new std::mutex();  // never destroyed: kernels may fault while the process exits
    return *m;
}
std::map<uintptr_t, GuardedMapping>& guardedMappings() {
    static auto* m = new std::map<uintptr_t, GuardedMapping>();
    return *m;
}

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

}  // namespace

namespace cuemu {

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

void describeDeviceAddress(uintptr_t address, char* out, size_t outBytes) {
    std::unique_lock<std::mutex> lock(guardMutex(), std::try_to_lock);
    if (!lock.owns_lock()) return;
    auto& all = guardedMappings();
    auto after = all.upper_bound(address);  // the mapping holding it has the data just below, or just above (a leading guard)
    for (auto it : {after, after == all.begin() ? all.end() : std::prev(after)}) {
        if (it == all.end()) continue;
        const GuardedMapping& g = it->second;
        if (address >= g.base && address < g.base + g.mappedBytes) {
            if (address < g.data) {
                snprintf(out, outBytes, ": %zu bytes before the start of the %zu-byte device allocation at 0x%llx",
                         (size_t)(g.data - address), g.bytes, (unsigned long long)g.data);
            } else {
                snprintf(out, outBytes, ": %zu bytes past the end of the %zu-byte device allocation at 0x%llx",
                         (size_t)(address - g.data - g.bytes), g.bytes, (unsigned long long)g.data);
            }
            return;
        }
    }
    snprintf(out, outBytes, address < 65536 ? ": a null pointer, or an offset from one"
                                            : ": no live device allocation is there (freed, or never allocated)");
}

}  // namespace cuemu

namespace {

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

// Device memory with a guard page on either side; its bytes start as 0xFF (a NaN in every float
// type, -1 in every integer one), since cuMemAlloc's memory holds whatever it held before. The data
// ends exactly at the second guard, so it starts aligned to the largest power of two that divides
// its size (256 bytes and more for the model's tensors; a 52-byte buffer only to 4, which is all
// its element type needs, though not what cuMemAlloc guarantees).
void* mapGuarded(size_t bytes) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), data = std::max<size_t>(bytes, 1);
    const size_t span = roundUp(data, page), mapped = span + 2 * page;
    void* base = mmap(nullptr, mapped, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    unsigned char* usable = static_cast<unsigned char*>(base) + page;
    if (mprotect(usable, span, PROT_READ | PROT_WRITE) != 0) {
        munmap(base, mapped);
        return nullptr;
    }
    unsigned char* p = usable + span - data;
    memset(p, 0xff, data);
    std::lock_guard<std::mutex> lock(guardMutex());
    guardedMappings()[reinterpret_cast<uintptr_t>(p)] =
            GuardedMapping{reinterpret_cast<uintptr_t>(base), mapped, reinterpret_cast<uintptr_t>(p), bytes};
    return p;
}

void unmapGuarded(uintptr_t p) {
    std::lock_guard<std::mutex> lock(guardMutex());
    auto it = guardedMappings().find(p);
    if (it == guardedMappings().end()) return;
    munmap(reinterpret_cast<void*>(it->second.base), it->second.mappedBytes);
    guardedMappings().erase(it);
}

// Memory allocation shared by cuMemAlloc and the pinned host allocators.
CUresult allocate(const char* api, size_t bytes, bool pinned, uintptr_t* out) {
    DriverState& S = state();
    size_t rounded = roundUp(std::max<size_t>(bytes, 1), pinned ? kHostAlign : kDeviceAlign);
    if (!pinned && (rounded > S.totalMemory || S.deviceBytes > S.totalMemory - rounded)) {
        return fail(CUDA_ERROR_OUT_OF_MEMORY, api, format("%zu bytes asked with %zu of %zu in use", bytes, S.deviceBytes, S.totalMemory));
    }
    void* p = pinned ? aligned_alloc(kHostAlign, rounded) : mapGuarded(bytes);
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
    if (pinned) free(reinterpret_cast<void*>(p));
    else unmapGuarded(p);
    S.allocations.erase(it);
    return CUDA_SUCCESS;
}

}  // namespace

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
