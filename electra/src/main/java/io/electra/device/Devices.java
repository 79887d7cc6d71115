package io.electra.device;

import io.electra.engine.Backend;
import io.electra.engine.cpu.CpuBackend;

import java.io.PrintStream;
import java.util.Locale;

/** Picks the backend: {@code cpu}, {@code cuda} (an error without a device) or {@code auto}, and says which. */
public final class Devices {
    private Devices() {
    }

    public static Backend select(String device, PrintStream log) {
        String d = device == null ? "auto" : device.toLowerCase(Locale.ROOT);
        switch (d) {
            case "cpu" -> {
                Backend b = new CpuBackend();
                log.println("device: " + b.name());
                return b;
            }
            case "cuda", "auto" -> {
                CudaProbe.Result r = CudaProbe.probe();
                if (r.backend() != null) {
                    log.println("device: " + r.backend().name());
                    return r.backend();
                }
                if (d.equals("cuda")) throw new IllegalStateException("--device cuda: " + r.reason());
                Backend b = new CpuBackend();
                log.println("device: " + b.name() + " (no CUDA: " + r.reason() + ")");
                return b;
            }
            default -> throw new IllegalArgumentException("--device must be cpu, cuda or auto, got '" + device + "'");
        }
    }
}
