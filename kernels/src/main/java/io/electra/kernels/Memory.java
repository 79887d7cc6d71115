package io.electra.kernels;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.ops.CopyKernels;
import io.electra.kernels.ops.Operands;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.DeviceBlock;
import io.electra.kernels.runtime.Transfers;
import jcuda.driver.CUstream;

import java.util.Arrays;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD16Async;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

/** The Backend's memory methods on the device: allocation, transfers, fill, copy and conversion. */
final class Memory {
    private final Backend backend;
    private final CudaRuntime runtime;
    private final Operands operands;
    private final CopyKernels copy;
    private final Transfers transfers;
    private final CUstream stream;

    Memory(Backend backend, CudaRuntime runtime, Operands operands, CopyKernels copy) {
        this.backend = backend;
        this.runtime = runtime;
        this.operands = operands;
        this.copy = copy;
        this.transfers = runtime.transfers();
        this.stream = runtime.stream();
    }

    /** A zero-filled tensor from the persistent pool or the arena. */
    /**
     * Test mode, as the CPU backend's (the gpu test run sets {@code electra.poisonUnfilled}): unfilled
     * arena memory is set to all-ones bytes, a NaN in F32 and BF16 and -1 in I32, so a kernel that
     * leaves part of its output unwritten shows up in the model-level gpu tests.
     */
    private static final boolean POISON_UNFILLED = Boolean.getBoolean("electra.poisonUnfilled");

    Tensor allocate(DType dtype, int[] shape, boolean persistent) {
        return allocate(dtype, shape, persistent, true);
    }

    /** As above; without {@code zeroFill} the contents are undefined (outputs a kernel overwrites). */
    Tensor allocate(DType dtype, int[] shape, boolean persistent, boolean zeroFill) {
        String what = (persistent ? "allocate(" : zeroFill ? "allocateTemp(" : "allocateTempUnfilled(") + dtype
                + Arrays.toString(shape) + ")";
        if (dtype == DType.F64) throw new IllegalArgumentException(what + ": F64 is not supported on the GPU (CPU only, for gradient checks)");
        long bytes = Tensor.sizeOf(shape) * dtype.bytes;
        DeviceBlock b = persistent ? runtime.allocator().allocatePersistent(bytes) : runtime.allocator().allocateArena(bytes);
        if (bytes > 0 && zeroFill) cuMemsetD8Async(b.pointer(0), (byte) 0, bytes, stream);
        else if (bytes > 0 && POISON_UNFILLED) cuMemsetD8Async(b.pointer(0), (byte) 0xFF, bytes, stream);
        return new Tensor(backend, dtype, shape, b, 0, null);
    }

    void upload(Tensor dst, float[] src) {
        checkLength("upload", dst, src.length);
        switch (dst.dtype()) {
            case F32 -> transfers.upload(block(dst), byteOffset(dst), src);
            case BF16 -> {
                short[] bits = new short[src.length];
                for (int i = 0; i < src.length; i++) bits[i] = Bf16.fromFloat(src[i]);
                transfers.upload(block(dst), byteOffset(dst), bits);
            }
            default -> throw new IllegalArgumentException("upload(" + dst.describe() + ", float[]): needs an F32 or BF16 tensor");
        }
    }

    void upload(Tensor dst, int[] src) {
        checkLength("upload", dst, src.length);
        if (dst.dtype() != DType.I32) throw new IllegalArgumentException("upload(" + dst.describe() + ", int[]): needs an I32 tensor");
        transfers.upload(block(dst), byteOffset(dst), src);
    }

    void upload(Tensor dst, short[] src) {
        checkLength("upload", dst, src.length);
        if (dst.dtype() != DType.BF16) throw new IllegalArgumentException("upload(" + dst.describe() + ", short[]): needs a BF16 tensor");
        transfers.upload(block(dst), byteOffset(dst), src);
    }

    float[] downloadFloat(Tensor src) {
        float[] out = new float[size(src)];
        switch (src.dtype()) {
            case F32 -> transfers.download(block(src), byteOffset(src), out);
            case BF16 -> {
                short[] bits = new short[out.length];
                transfers.download(block(src), byteOffset(src), bits);
                for (int i = 0; i < out.length; i++) out[i] = Bf16.toFloat(bits[i]);
            }
            case I32 -> {
                int[] ints = new int[out.length];
                transfers.download(block(src), byteOffset(src), ints);
                for (int i = 0; i < out.length; i++) out[i] = ints[i];
            }
            default -> throw new IllegalArgumentException("downloadFloat(" + src.describe() + "): F64 is not supported on the GPU");
        }
        runtime.synchronize();  // reports any out-of-range data the queued kernels met
        return out;
    }

    int[] downloadInt(Tensor src) {
        if (src.dtype() != DType.I32) throw new IllegalArgumentException("downloadInt(" + src.describe() + "): needs an I32 tensor");
        int[] out = new int[size(src)];
        transfers.download(block(src), byteOffset(src), out);
        runtime.synchronize();
        return out;
    }

    void fill(Tensor t, double value) {
        long n = t.size();
        DeviceBlock b = block(t);
        if (n == 0) return;
        switch (t.dtype()) {
            case F32 -> cuMemsetD32Async(b.pointer(byteOffset(t)), Float.floatToRawIntBits((float) value), n, stream);
            case I32 -> cuMemsetD32Async(b.pointer(byteOffset(t)), (int) value, n, stream);
            case BF16 -> cuMemsetD16Async(b.pointer(byteOffset(t)), Bf16.fromFloat((float) value), n, stream);
            default -> throw new IllegalArgumentException("fill(" + t.describe() + "): F64 is not supported on the GPU");
        }
    }

    /** dst = src; F32 <-> BF16 converts (round to nearest even), equal dtypes copy bytes. */
    void copy(Tensor dst, Tensor src) {
        if (dst.size() != src.size()) {
            throw new IllegalArgumentException("copy(" + dst.describe() + ", " + src.describe() + "): sizes differ");
        }
        long d = operands.address("copy", dst), s = operands.address("copy", src), n = src.size();
        if (dst.dtype() == src.dtype()) {
            if (n > 0) cuMemcpyDtoDAsync(block(dst).pointer(byteOffset(dst)), block(src).pointer(byteOffset(src)), n * src.dtype().bytes, stream);
        } else if (dst.dtype() == DType.BF16 && src.dtype() == DType.F32) {
            copy.f32ToBf16(d, s, n);
        } else if (dst.dtype() == DType.F32 && src.dtype() == DType.BF16) {
            copy.bf16ToF32(d, s, n);
        } else {
            throw new IllegalArgumentException("copy(" + dst.describe() + ", " + src.describe() + "): no conversion between "
                    + src.dtype() + " and " + dst.dtype() + " on the GPU");
        }
    }

    private DeviceBlock block(Tensor t) {
        operands.address("tensor", t);  // ownership, dtype and liveness checks
        return (DeviceBlock) t.storage();
    }

    private static long byteOffset(Tensor t) {
        return t.offset() * t.dtype().bytes;
    }

    private static int size(Tensor t) {
        return Math.toIntExact(t.size());
    }

    private static void checkLength(String op, Tensor t, int length) {
        if (t.size() != length) {
            throw new IllegalArgumentException(op + "(" + t.describe() + "): the array holds " + length + " elements, the tensor " + t.size());
        }
    }
}
