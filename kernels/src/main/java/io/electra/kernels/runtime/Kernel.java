package io.electra.kernels.runtime;

import jcuda.driver.CUfunction;

/** One entry point of a loaded module; {@code toString} names both, for every error message. */
public final class Kernel {
    private final Family family;
    private final String name;
    final CUfunction function;

    Kernel(Family family, String name, CUfunction function) {
        this.family = family;
        this.name = name;
        this.function = function;
    }

    public Family family() {
        return family;
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name + " (module " + family.fileName() + ")";
    }
}
