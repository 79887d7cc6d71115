package io.electra.kernels;

import io.electra.kernels.runtime.CudaGraph;

import java.util.Optional;

/**
 * The answer of {@link CudaBackend#captureStep}: a graph that replays the step with one launch,
 * or the reason there is none ("... cuStreamSynchronize ... CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED ...
 * A captured step may not synchronize ..."), for the caller to print before running eagerly.
 */
public record StepCapture(Optional<CudaGraph> graph, String reason) {

    static StepCapture captured(CudaGraph graph) {
        return new StepCapture(Optional.of(graph), "");
    }

    static StepCapture failed(String reason) {
        return new StepCapture(Optional.empty(), reason);
    }

    public boolean isCaptured() {
        return graph.isPresent();
    }
}
