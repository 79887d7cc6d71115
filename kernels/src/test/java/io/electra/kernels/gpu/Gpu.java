package io.electra.kernels.gpu;

import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import io.electra.kernels.runtime.Launcher;
import org.junit.jupiter.api.Assumptions;

/**
 * The one CUDA backend every gpu test shares (a context per test class would cost seconds each),
 * opened on first use and closed when the JVM exits. Without a device, {@link #backend()} skips
 * the calling test visibly with the reason.
 */
public final class Gpu {
    private static CudaProbe probe;

    private Gpu() {
    }

    public static synchronized CudaProbe probe() {
        if (probe == null) {
            probe = CudaBackend.tryCreate();
            if (probe.isAvailable()) {
                CudaBackend b = probe.backend().orElseThrow();
                System.out.println("gpu tests run on " + b.name() + ", driver CUDA " + b.driverVersion() / 1000 + "."
                        + (b.driverVersion() % 1000) / 10 + (Boolean.getBoolean(Launcher.CHECK_EACH_LAUNCH)
                        ? ", every launch synchronized and checked (" + Launcher.CHECK_EACH_LAUNCH + ")" : ""));
                Runtime.getRuntime().addShutdownHook(new Thread(b::close));
            } else {
                System.out.println("SKIPPED gpu tests: no CUDA device (" + probe.reason() + ")");
            }
        }
        return probe;
    }

    /** The shared backend, or a visible skip: "no CUDA device (reason)". */
    public static CudaBackend backend() {
        CudaProbe p = probe();
        Assumptions.assumeTrue(p.isAvailable(), () -> "no CUDA device (" + p.reason() + ")");
        return p.backend().orElseThrow();
    }
}
