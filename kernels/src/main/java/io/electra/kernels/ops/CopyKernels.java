package io.electra.kernels.ops;

import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;

/** Launcher for copy.cu: F32 <-> BF16 conversion (round to nearest even). */
public final class CopyKernels {
    private final Launcher launcher;
    private final Kernel toBf16, toF32;

    public CopyKernels(CudaRuntime runtime) {
        this.launcher = runtime.launcher();
        toBf16 = runtime.kernel(Family.COPY, "copy_forward_f32_to_bf16");
        toF32 = runtime.kernel(Family.COPY, "copy_forward_bf16_to_f32");
    }

    public void f32ToBf16(long out, long in, long n) {
        run(toBf16, out, in, n);
    }

    public void bf16ToF32(long out, long in, long n) {
        run(toF32, out, in, n);
    }

    private void run(Kernel k, long out, long in, long n) {
        if (n == 0) return;
        launcher.args().ptr(out).ptr(in).i64(n);
        launcher.launch(k, launcher.gridStride(n), Launcher.BLOCK);
    }
}
