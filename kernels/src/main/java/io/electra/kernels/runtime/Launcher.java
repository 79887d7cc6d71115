package io.electra.kernels.runtime;

import jcuda.CudaException;
import jcuda.driver.CUstream;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;

/**
 * Launches kernels on the compute stream. Usage: {@code launcher.args().ptr(out).i32(n);
 * launcher.launch(kernel, grid, block)}; the argument order is the kernel's, and the family
 * launcher classes are the only callers. Nothing on this path allocates.
 */
public final class Launcher {
    /** Threads per block for the elementwise and grid-stride kernels. */
    public static final int BLOCK = 256;

    private final CUstream stream;
    private final KernelArgs args = new KernelArgs();
    private final ErrorWord errors;
    private final RngStepOffsetWord rngStepOffset;
    private final int maxGridStrideBlocks;

    Launcher(CUstream stream, ErrorWord errors, RngStepOffsetWord rngStepOffset, int multiprocessors) {
        this.stream = stream;
        this.errors = errors;
        this.rngStepOffset = rngStepOffset;
        this.maxGridStrideBlocks = Math.max(1, multiprocessors) * 32;  // enough warps to hide memory latency
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
        try {
            cuLaunchKernel(kernel.function, gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream, args.params(), null);
        } catch (CudaException e) {
            throw new IllegalStateException("launch of " + kernel + " with grid (" + gridX + ", " + gridY + ", " + gridZ
                    + "), block " + block + " and " + args.count() + " arguments failed: " + e.getMessage(), e);
        }
    }
}
