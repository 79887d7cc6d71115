package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.cpu.CpuBackend;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The one place that turns {@code --device} into a backend, so wiring the CUDA backend is a change
 * here only. {@code auto} means the best available device.
 */
public final class Devices {
    private Devices() {
    }

    /** The backend for {@code cpu}, {@code cuda} or {@code auto} (null means auto); says which on {@code log}. */
    public static Backend open(String device, PrintStream log) {
        String d = device == null ? "auto" : device.strip().toLowerCase(Locale.ROOT);
        Backend b = switch (d) {
            case "cpu", "auto" -> new CpuBackend();
            case "cuda" -> throw new IllegalArgumentException(
                    "--device cuda: the CUDA backend is not wired into fine-tuning yet; use --device cpu");
            default -> throw new IllegalArgumentException("--device must be cpu, cuda or auto, got '" + device + "'");
        };
        log.println("device: " + b.name());
        return b;
    }
}
