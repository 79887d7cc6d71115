package io.electra.kernels.runtime;

import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;

/**
 * One entry point of a loaded module and its PTX parameter list; {@code toString} names both
 * entry and module, for every error message.
 */
public final class Kernel {
    private final Family family;
    private final String name;
    final CUfunction function;
    private final KernelSignature signature;

    Kernel(Family family, String name, CUfunction function, KernelSignature signature) {
        this.family = family;
        this.name = name;
        this.function = function;
        this.signature = signature;
    }

    public Family family() {
        return family;
    }

    public String name() {
        return name;
    }

    /**
     * Lets launches of this kernel ask for up to {@code bytes} of dynamic shared memory; the driver
     * refuses more than 48 KiB unless a kernel opts in (the tensor-core GEMM's 4-stage rings need 64 KiB).
     */
    public void allowDynamicShared(int bytes) {
        try {
            cuFuncSetAttribute(function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
        } catch (RuntimeException e) {
            throw new IllegalStateException(this + ": the device refuses " + bytes + " bytes of dynamic shared memory: "
                    + e.getMessage(), e);
        }
    }

    KernelSignature signature() {
        return signature;
    }

    /**
     * Throws, naming the argument, unless the kinds written into {@code args} fill this kernel's
     * PTX parameter list exactly; allocates nothing when they do.
     */
    void checkArguments(KernelArgs args) {
        if (!signature.matches(args)) throw new IllegalStateException(this + ": " + signature.mismatch(args));
    }

    @Override
    public String toString() {
        return name + " (module " + family.fileName() + ")";
    }
}
