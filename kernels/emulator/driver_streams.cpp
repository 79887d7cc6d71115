// driver_streams.cpp: stream arguments and where their work goes, running work (kernels, copies,
// memsets, event records, graphs), and the stream and event entry points.
#include "driver_internal.h"

using namespace cuemu;

namespace cuemu {

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

}  // namespace cuemu

namespace {

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

}  // namespace

namespace cuemu {

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

}  // namespace cuemu

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

namespace {

// Synchronize and query: work has already run, except that a capturing stream refuses both (and the
// capture is invalidated), as CUDA does.
CUresult waitOn(const char* fn, CUstream stream, const char* verb) {
    if (CUresult rc = gate(fn)) return rc;
    StreamRef ref;
    if (CUresult rc = resolveStream(fn, stream, ref)) return rc;
    if (ref.legacy) return refuseLegacyDuringBlockingCapture(fn, true);
    if (ref.stream && ref.stream->capture) {
        fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, fn, std::string("a stream cannot be ") + verb + " while it is being captured");
        invalidate(ref.stream->capture, fn);
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;
}

}  // namespace

CUEMU_API cuStreamSynchronize(CUstream stream) {
    LOCKED;
    return waitOn(__func__, stream, "synchronized");
}

CUEMU_API cuStreamQuery(CUstream stream) {
    LOCKED;
    return waitOn(__func__, stream, "queried");
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
