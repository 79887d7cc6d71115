package io.electra.engine;

import java.util.Optional;

/**
 * The answer of {@link Backend#captureStep}: a graph that replays the step, or the reason there is
 * none ("the cpu backend runs steps eagerly", "... CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED ... A captured
 * step may not synchronize ..."), for the caller to print once before running its steps eagerly.
 */
public record StepCapture(Optional<StepGraph> graph, String reason) {

    public StepCapture {
        if (graph.isPresent() == !reason.isEmpty()) {
            throw new IllegalArgumentException("a capture has a graph or a reason, not both and not neither");
        }
    }

    public static StepCapture captured(StepGraph graph) {
        return new StepCapture(Optional.of(graph), "");
    }

    public static StepCapture failed(String reason) {
        return new StepCapture(Optional.empty(), reason == null || reason.isEmpty() ? "no reason given" : reason);
    }

    public boolean isCaptured() {
        return graph.isPresent();
    }
}
