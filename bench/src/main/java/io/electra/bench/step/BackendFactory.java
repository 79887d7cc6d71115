package io.electra.bench.step;

import io.electra.engine.Backend;
import io.electra.engine.cpu.CpuBackend;

/** Opens a fresh backend for one benchmarked configuration ("cpu" or "cuda"), with {@code threads} CPU threads. */
@FunctionalInterface
public interface BackendFactory {

    Backend open(String device, int threads);

    /** The CPU backend with {@code threads} threads, or the CUDA device (an error naming why when there is none). */
    static BackendFactory standard() {
        return (device, threads) -> switch (device) {
            case "cpu" -> new CpuBackend(threads);
            case "cuda" -> io.electra.device.Devices.select("cuda", System.err);
            default -> throw new IllegalArgumentException("--device must be cpu or cuda, got '" + device + "'");
        };
    }
}
