package io.electra.kernels.gpu;

import io.electra.engine.Backend;
import io.electra.engine.Tensor;

/** One tensor made twice with the same contents: on the CPU reference and on the GPU. */
public record Twin(Tensor cpu, Tensor gpu) {
    /** The side that lives on {@code backend}. */
    public Tensor on(Backend backend) {
        if (cpu.backend() == backend) return cpu;
        if (gpu.backend() == backend) return gpu;
        throw new IllegalArgumentException("twin " + cpu.describe() + " does not live on " + backend.name());
    }

    /** The same view on both sides. */
    public Twin view(int... shape) {
        return new Twin(cpu.view(shape), gpu.view(shape));
    }
}
