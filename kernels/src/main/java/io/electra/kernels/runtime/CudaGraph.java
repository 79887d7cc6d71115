package io.electra.kernels.runtime;

import io.electra.engine.StepGraph;
import jcuda.CudaException;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;

import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;

/**
 * The work one call enqueued on the compute stream, recorded once (stream capture) and replayed
 * with a single launch: a whole training step costs one cuGraphLaunch instead of ~1000 kernel
 * launches of host time. The CUDA backend's {@link StepGraph}.
 *
 * <p>What a capturable step must respect (capture runs in thread-local mode, so anything that
 * would be unsafe fails the capture instead of silently baking in stale state):
 * <ul>
 *   <li>Addresses are baked in: every tensor the step touches must sit at the same address on
 *       every replay. Persistent tensors do; arena tensors do when the step allocates them in the
 *       same order after resetArena (the arena's design). Run the step eagerly once first, so the
 *       arena, the workspace and the pool have grown to their final sizes: a cuMemAlloc inside the
 *       capture fails it. Eager work between replays (validation) may still grow the arena or the
 *       workspace: while a graph lives, the allocator retires instead of freeing, so the graph's
 *       addresses stay valid until it is closed.</li>
 *   <li>Kernel arguments are copied at capture: scalars that change between steps (learning rate,
 *       bias corrections, loss scale) must be device tensors, as the Backend contract requires.</li>
 *   <li>No synchronisation and no host reads inside: no synchronize(), download or upload (the
 *       Backend's upload waits for its staging copy). New inputs go to their device tensors before
 *       the launch, with uploads outside the graph; the loss is read back every N steps, outside.</li>
 *   <li>Random streams: an RngKey's seed, step and purpose are kernel arguments, baked in like any
 *       other, but every Philox kernel also reads the device step-offset word
 *       ({@link RngStepOffsetWord}) and draws at step + offset. Before each replay the host sets
 *       the offset to (this step's stream number - the captured one) with
 *       {@code Backend.setRngStepOffset}, outside the graph (a write inside would be baked in), so each replay draws its own dropout
 *       masks and Gumbel noise; eager work runs with offset 0.</li>
 * </ul>
 */
public final class CudaGraph implements StepGraph {
    private final CudaRuntime runtime;
    private final CUgraph graph;
    private final CUgraphExec exec;
    private boolean closed;

    private CudaGraph(CudaRuntime runtime, CUgraph graph, CUgraphExec exec) {
        this.runtime = runtime;
        this.graph = graph;
        this.exec = exec;
    }

    /**
     * Runs {@code step} with the compute stream in capture mode and instantiates what it
     * enqueued. Nothing runs on the device during the capture. On failure the stream is back to
     * normal and the exception names the reason (the first CUDA error inside the step, or the
     * invalidated capture).
     */
    static CudaGraph capture(CudaRuntime runtime, CUstream stream, Runnable step) throws GraphCaptureException {
        CUgraph graph = new CUgraph();
        cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        RuntimeException inStep = null;
        try {
            step.run();
        } catch (RuntimeException e) {
            inStep = e;
        }
        String ended = null;
        try {
            cuStreamEndCapture(stream, graph);  // always: it takes the stream out of capture mode
        } catch (CudaException e) {
            ended = e.getMessage();
        }
        if (inStep != null || ended != null) {
            if (ended == null) destroyQuietly(graph);
            throw new GraphCaptureException(reason(inStep, ended), inStep);
        }
        CUgraphExec exec = new CUgraphExec();
        try {
            cuGraphInstantiate(exec, graph, 0L);  // CUDA 12's form: (exec, graph, flags)
        } catch (CudaException e) {
            destroyQuietly(graph);
            throw new GraphCaptureException("the captured step could not be instantiated: " + e.getMessage(), e);
        }
        return new CudaGraph(runtime, graph, exec);
    }

    /** Enqueues one replay on the compute stream; returns at once, like a kernel launch. */
    @Override
    public void replay() {
        if (closed) throw new IllegalStateException("this CUDA graph was closed");
        runtime.bind();
        cuGraphLaunch(exec, runtime.stream());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        runtime.bind();
        cuGraphExecDestroy(exec);
        cuGraphDestroy(graph);
        runtime.allocator().graphClosed();  // memory freed while the graph lived may go back now
    }

    static String reason(RuntimeException inStep, String ended) {
        StringBuilder why = new StringBuilder("the step could not be captured as a CUDA graph");
        if (inStep != null) why.append(": ").append(inStep.getMessage());
        if (ended != null) why.append(inStep == null ? ": " : "; then ").append("ending the capture failed (").append(ended).append(')');
        boolean unsupported = String.valueOf(inStep == null ? null : inStep.getMessage()).contains("STREAM_CAPTURE")
                || String.valueOf(ended).contains("STREAM_CAPTURE");
        if (unsupported) {
            why.append(". A captured step may not synchronize, allocate device memory (run it once eagerly first), "
                    + "upload, download or read anything back to the host");
        }
        return why.toString();
    }

    private static void destroyQuietly(CUgraph graph) {
        try {
            cuGraphDestroy(graph);
        } catch (CudaException ignored) {
            // the graph may not exist when the capture was invalidated; nothing to release then
        }
    }

    /** Why a step could not become a graph; the caller falls back to eager launches. */
    public static final class GraphCaptureException extends Exception {
        GraphCaptureException(String message, Throwable cause) {
            super(message, cause);
        }
    }

}
