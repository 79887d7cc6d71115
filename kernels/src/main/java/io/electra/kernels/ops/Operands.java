package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.DeviceAllocator;
import io.electra.kernels.runtime.DeviceBlock;
import io.electra.kernels.runtime.Kernel;

/**
 * Turns tensors into kernel arguments: checks that a tensor lives on this device, is still
 * allocated and has the dtype the kernel reads, and returns its device address. Failures name
 * the kernel and the tensor; the success path allocates nothing.
 */
public final class Operands {
    private final DeviceAllocator allocator;

    public Operands(DeviceAllocator allocator) {
        this.allocator = allocator;
    }

    /** The address of an F32 tensor. */
    public long f32(Kernel k, Tensor t) {
        if (t.dtype() != DType.F32) throw wrongDtype(k, t, "F32");
        return address(k, t);
    }

    /** The address of a BF16 tensor. */
    public long bf16(Kernel k, Tensor t) {
        if (t.dtype() != DType.BF16) throw wrongDtype(k, t, "BF16");
        return address(k, t);
    }

    /** The address of an F32 or BF16 tensor (kernels that take either, with a dtype flag). */
    public long f32OrBf16(Kernel k, Tensor t) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.BF16) throw wrongDtype(k, t, "F32 or BF16");
        return address(k, t);
    }

    /** The address of an I32 tensor. */
    public long i32(Kernel k, Tensor t) {
        if (t.dtype() != DType.I32) throw wrongDtype(k, t, "I32");
        return address(k, t);
    }

    /** The address of element 0 of a tensor of any device dtype. */
    public long address(Object where, Tensor t) {
        if (t.dtype() == DType.F64) {
            throw new IllegalArgumentException(where + ": " + t.describe() + " is F64, which the GPU does not support "
                    + "(F64 exists for CPU gradient checks only)");
        }
        if (!(t.storage() instanceof DeviceBlock b)) {
            throw new IllegalArgumentException(where + ": " + t.describe() + " does not live on this CUDA device");
        }
        if (b.persistent() ? b.freedAlready() : !allocator.isCurrent(b)) {
            throw new IllegalArgumentException(where + ": " + t.describe()
                    + (b.persistent() ? " was freed" : " is an arena tensor used after resetArena()"));
        }
        return b.address() + t.offset() * t.dtype().bytes;
    }

    static IllegalArgumentException wrongDtype(Kernel k, Tensor t, String expected) {
        if (t.dtype() == DType.F64) {
            return new IllegalArgumentException(k + ": " + t.describe() + " is F64, which the GPU does not support");
        }
        if (t.dtype() == DType.BF16) {
            return new IllegalArgumentException(k + ": " + t.describe() + " is BF16, but this kernel reads " + expected
                    + " (the bf16 paths are matmul and attention; convert with copy)");
        }
        return new IllegalArgumentException(k + ": " + t.describe() + " must be " + expected);
    }

    /** A shape error naming the kernel. */
    public static IllegalArgumentException shape(Kernel k, String message) {
        return new IllegalArgumentException(k + ": " + message);
    }

    /** A scalar: shape [] or [1]. */
    public static boolean isScalar(Tensor t) {
        return t.size() == 1 && t.rank() <= 1;
    }
}
