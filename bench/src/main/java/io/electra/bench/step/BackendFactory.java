package io.electra.bench.step;

import io.electra.engine.Backend;
import io.electra.engine.cpu.CpuBackend;

/** Opens a fresh backend for one benchmarked configuration ("cpu" or "cuda"), with {@code threads} CPU threads. */
@FunctionalInterface
public interface BackendFactory {

    Backend open(String device, int threads);

    /**
     * The CPU backend, and a clear error for CUDA until the CUDA backend is merged: wiring it is the
     * one line marked below.
     */
    static BackendFactory standard() {
        return (device, threads) -> switch (device) {
            case "cpu" -> new CpuBackend(threads);
            // CUDA: return the kernels module's CudaBackend here once it is on this branch.
            case "cuda" -> throw new IllegalArgumentException("--device cuda: the CUDA backend is not wired into "
                    + "the bench yet (see BackendFactory.standard)");
            default -> throw new IllegalArgumentException("--device must be cpu or cuda, got '" + device + "'");
        };
    }
}
