package io.electra.kernels.ops;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.KernelArgs;
import io.electra.kernels.runtime.Launcher;

import static io.electra.kernels.ops.Operands.shape;

/** Launcher for dropout.cu: one thread per Philox block of 4 elements. */
public final class DropoutKernels {
    private final Launcher launcher;
    private final Operands operands;
    private final Kernel forward, backward, bits;

    public DropoutKernels(CudaRuntime runtime, Operands operands) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        forward = runtime.kernel(Family.DROPOUT, "dropout_forward");
        backward = runtime.kernel(Family.DROPOUT, "dropout_backward");
        bits = runtime.kernel(Family.DROPOUT, "dropout_forward_bits");
    }

    /** out = in * keep / (1 - p). */
    public void forward(Tensor out, Tensor in, float p, RngKey key) {
        if (out.size() != in.size()) throw shape(forward, "out " + out.describe() + " and in " + in.describe() + " differ in size");
        run(forward, operands.f32(forward, out), operands.f32(forward, in), in.size(), p, key);
    }

    /** dIn += dOut * keep / (1 - p), the mask regenerated from the key. */
    public void backward(Tensor dIn, Tensor dOut, float p, RngKey key) {
        if (dIn.size() != dOut.size()) throw shape(backward, "dIn " + dIn.describe() + " and dOut " + dOut.describe() + " differ in size");
        run(backward, operands.f32(backward, dIn), operands.f32(backward, dOut), dOut.size(), p, key);
    }

    /** out[0..n) = in * keep / (1 - p) on raw addresses (attention probabilities; out may be in). */
    void forward(long out, long in, long n, float p, RngKey key) {
        run(forward, out, in, n, p, key);
    }

    /** Raw stream values start .. start+n into an I32 tensor: the bit-exactness check of philox.cuh. */
    public void bits(Tensor out, long start, RngKey key) {
        long n = out.size();
        if (n == 0) return;
        withKey(launcher, launcher.args().ptr(operands.i32(bits, out)).i64(start).i64(n), key);
        launcher.launch(bits, launcher.gridStride(n), Launcher.BLOCK);
    }

    private void run(Kernel k, long out, long in, long n, float p, RngKey key) {
        if (!(p >= 0f && p < 1f)) throw shape(k, "dropout probability " + p + " is outside [0, 1)");
        if (n == 0) return;
        withKey(launcher, launcher.args().ptr(out).ptr(in).f32(p).f32(keepScale(p)).i64(n), key);
        launcher.launch(k, launcher.gridStride((n + 3) / 4), Launcher.BLOCK);
    }

    /**
     * The factor a kept element is multiplied by, 1 / (1 - p) rounded once from double as the CPU
     * backend rounds it: the float expression 1f / (1f - p) rounds twice and differs in the last bit
     * for some p (0.15 among them), which would make the GPU's dropout differ from the CPU's.
     */
    static float keepScale(float p) {
        return (float) (1.0 / (1.0 - p));
    }

    /**
     * Appends the stream arguments every Philox kernel ends with: seed low, seed high, step, purpose (u32
     * each) and the address of the device step-offset word the kernel adds to step (philox.cuh).
     */
    static KernelArgs withKey(Launcher launcher, KernelArgs args, RngKey key) {
        return args.i32((int) key.seed()).i32((int) (key.seed() >>> 32)).i32((int) key.step()).i32(key.purpose())
                .ptr(launcher.rngStepOffsetWord());
    }
}
