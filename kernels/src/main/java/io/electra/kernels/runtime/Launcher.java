package io.electra.kernels.runtime;

import jcuda.CudaException;
import jcuda.driver.CUstream;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * Launches kernels on the compute stream. Usage: {@code launcher.args().ptr(out).i32(n);
 * launcher.launch(kernel, grid, block)}; the argument order is the kernel's, and the family
 * launcher classes are the only callers. Every launch is first held against the kernel's PTX
 * parameter list (count and kind of each argument), so a launcher out of step with its kernel is
 * an exception naming the argument, not garbage or a fault that poisons the context. Nothing on
 * this path allocates.
 *
 * <p>With {@code -Delectra.cuda.checkEachLaunch=true} (the gpu test runs of the bundle) every
 * launch outside a graph capture also waits for the stream, so a kernel that faults is named
 * with its grid, block and shared bytes instead of surfacing at some later synchronize.
 */
public final class Launcher {
    /** Threads per block for the elementwise and grid-stride kernels. */
    public static final int BLOCK = 256;
    /** The system property (true/false) that makes each launch outside a capture synchronize and report its own fault. */
    public static final String CHECK_EACH_LAUNCH = "electra.cuda.checkEachLaunch";

    private final CUstream stream;
    private final KernelArgs args = new KernelArgs();
    private final ErrorWord errors;
    private final RngStepOffsetWord rngStepOffset;
    private final int maxGridStrideBlocks;
    private final boolean checkEachLaunch = Boolean.getBoolean(CHECK_EACH_LAUNCH);
    private boolean capturing;

    Launcher(CUstream stream, ErrorWord errors, RngStepOffsetWord rngStepOffset, int multiprocessors) {
        this.stream = stream;
        this.errors = errors;
        this.rngStepOffset = rngStepOffset;
        this.maxGridStrideBlocks = Math.max(1, multiprocessors) * 32;  // enough warps to hide memory latency
    }

    /** Set by CudaRuntime.capture around the captured step: synchronizing then would invalidate the capture. */
    void capturing(boolean on) {
        capturing = on;
    }

    /** True while CudaRuntime.capture records the stream: work queued now becomes graph nodes. */
    public boolean isCapturing() {
        return capturing;
    }

    /** The cleared argument block for the next launch. */
    public KernelArgs args() {
        return args.reset();
    }

    /** The device error word kernels report out-of-range device data to. */
    public long errorWord() {
        return errors.address();
    }

    /** The device int64 every Philox kernel adds to its step (the last argument of each). */
    public long rngStepOffsetWord() {
        return rngStepOffset.address();
    }

    /** Blocks of {@link #BLOCK} threads for a grid-stride loop over {@code work} items. */
    public int gridStride(long work) {
        return (int) Math.max(1, Math.min((work + BLOCK - 1) / BLOCK, maxGridStrideBlocks));
    }

    public void launch(Kernel kernel, int grid, int block) {
        launch(kernel, grid, 1, 1, block, 0);
    }

    public void launch(Kernel kernel, int gridX, int gridY, int gridZ, int block, int sharedBytes) {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || gridY > 65535 || gridZ > 65535) {
            throw new IllegalArgumentException(kernel + ": grid (" + gridX + ", " + gridY + ", " + gridZ + ") out of range");
        }
        kernel.checkArguments(args);
        try {
            cuLaunchKernel(kernel.function, gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream, args.params(), null);
        } catch (CudaException e) {
            throw new IllegalStateException("launch of " + describe(kernel, gridX, gridY, gridZ, block, sharedBytes)
                    + " failed: " + e.getMessage(), e);
        }
        if (checkEachLaunch && !capturing) {
            try {
                cuStreamSynchronize(stream);
            } catch (CudaException e) {
                throw new IllegalStateException(describe(kernel, gridX, gridY, gridZ, block, sharedBytes)
                        + " failed on the device (" + CHECK_EACH_LAUNCH + " synchronized right after it): " + e.getMessage(), e);
            }
        }
    }

    private String describe(Kernel kernel, int gridX, int gridY, int gridZ, int block, int sharedBytes) {
        return kernel + " with grid (" + gridX + ", " + gridY + ", " + gridZ + "), block " + block + ", " + sharedBytes
                + " bytes of dynamic shared memory and " + args.count() + " arguments";
    }
}
