// driver_graphs.cpp: stream capture (which calls a capture refuses, invalidating it) and graphs:
// instantiation, launch (a replay of the recorded work) and destruction.
#include "driver_internal.h"

using namespace cuemu;

namespace {

thread_local CUstreamCaptureMode tCaptureMode = CU_STREAM_CAPTURE_MODE_GLOBAL;

}  // namespace

namespace cuemu {

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

}  // namespace cuemu

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
