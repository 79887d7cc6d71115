package io.electra.pretrain;

import io.electra.engine.Backend;
import io.electra.engine.StepCapture;
import io.electra.engine.StepGraph;

/**
 * The device half of a training step captured once ({@link Backend#captureStep}) and replayed every
 * step: with one micro-batch per step a single graph (forward and backward of both models, sampling,
 * clip, optimizer); with gradient accumulation one graph per micro-batch, replayed accumulate times,
 * and one for the optimizer. The host does everything else between replays: data, masks, input
 * uploads, the optimizer's hyper upload, and the RNG step offset that moves the captured dropout and
 * Gumbel streams to each micro-batch's own ({@link #replayMicroBatch}).
 */
final class GraphedStep implements AutoCloseable {
    private final Backend backend;
    private final StepGraph microBatch;   // with accumulate 1 also runs the optimizer
    private final StepGraph optimizer;    // null when fused into microBatch
    private final long capturedStream;

    private GraphedStep(Backend backend, StepGraph microBatch, StepGraph optimizer, long capturedStream) {
        this.backend = backend;
        this.microBatch = microBatch;
        this.optimizer = optimizer;
        this.capturedStream = capturedStream;
    }

    /** A captured step, or why there is none. */
    record Attempt(GraphedStep step, String reason) {
    }

    /**
     * Captures {@code microBatch} (which draws at {@code stream}) and {@code optimizer}, fused when
     * {@code fuse}. Nothing runs: replay to execute. Run the step eagerly once first.
     */
    static Attempt capture(Backend backend, long stream, Runnable microBatch, Runnable optimizer, boolean fuse) {
        if (fuse) {
            StepCapture whole = backend.captureStep(() -> {
                microBatch.run();
                optimizer.run();
            });
            return whole.isCaptured() ? new Attempt(new GraphedStep(backend, whole.graph().get(), null, stream), "")
                    : new Attempt(null, whole.reason());
        }
        StepCapture micro = backend.captureStep(microBatch);
        if (!micro.isCaptured()) return new Attempt(null, micro.reason());
        StepCapture opt = backend.captureStep(optimizer);
        if (!opt.isCaptured()) {
            micro.graph().get().close();
            return new Attempt(null, "the optimizer: " + opt.reason());
        }
        return new Attempt(new GraphedStep(backend, micro.graph().get(), opt.graph().get(), stream), "");
    }

    /** Replays the micro-batch graph with its random streams moved to {@code stream}'s. */
    void replayMicroBatch(long stream) {
        backend.setRngStepOffset(stream - capturedStream);
        microBatch.replay();
    }

    /** Replays the optimizer graph (a no-op when it is fused into the micro-batch's), then clears the offset for eager work. */
    void finishStep() {
        if (optimizer != null) optimizer.replay();
        backend.setRngStepOffset(0);
    }

    @Override
    public void close() {
        microBatch.close();
        if (optimizer != null) optimizer.close();
    }
}
