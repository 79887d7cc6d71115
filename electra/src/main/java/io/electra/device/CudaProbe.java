package io.electra.device;

import io.electra.engine.Backend;
import io.electra.kernels.CudaBackend;

/** Asks the CUDA backend for a device; never throws, never crashes the JVM. */
final class CudaProbe {
    private CudaProbe() {
    }

    record Result(Backend backend, String reason) {
    }

    private static volatile String unavailable; // a failed probe is not retried: the driver will not appear

    static Result probe() {
        if (unavailable != null) return new Result(null, unavailable);
        Result r = open();
        if (r.backend() == null) unavailable = r.reason();
        return r;
    }

    private static Result open() {
        try {
            io.electra.kernels.CudaProbe p = CudaBackend.tryCreate();
            return new Result(p.backend().orElse(null), p.reason());
        } catch (Throwable t) { // e.g. JCuda's classes missing from a trimmed class path
            return new Result(null, "the CUDA backend could not be loaded: " + t);
        }
    }
}
