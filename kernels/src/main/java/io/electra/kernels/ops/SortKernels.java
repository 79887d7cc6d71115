package io.electra.kernels.ops;

import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;

/** Launcher for sort.cu: the bitonic network, local chunks of 2048 keys in shared memory. */
public final class SortKernels {
    static final int CHUNK = 2048;
    private final Launcher launcher;
    private final Kernel local, global, merge;

    public SortKernels(CudaRuntime runtime) {
        this.launcher = runtime.launcher();
        local = runtime.kernel(Family.SORT, "sort_forward_local");
        global = runtime.kernel(Family.SORT, "sort_forward_global");
        merge = runtime.kernel(Family.SORT, "sort_forward_merge");
    }

    /** The padded length for n keys: a power of two, at least one chunk. */
    static long paddedLength(long n) {
        long p = CHUNK;
        while (p < n) p <<= 1;
        return p;
    }

    /** Sorts keys[0..p) ascending in place; p from {@link #paddedLength}. */
    void sort(long keys, long p) {
        int chunks = (int) (p / CHUNK);
        launcher.args().ptr(keys);
        launcher.launch(local, chunks, CHUNK / 2);
        for (long k = 2L * CHUNK; k <= p; k <<= 1) {
            for (long j = k / 2; j >= CHUNK; j >>= 1) {
                launcher.args().ptr(keys).i64(p).i32((int) k).i32((int) j);
                launcher.launch(global, (int) ((p / 2 + Launcher.BLOCK - 1) / Launcher.BLOCK), Launcher.BLOCK);
            }
            launcher.args().ptr(keys).i32((int) k);
            launcher.launch(merge, chunks, CHUNK / 2);
        }
    }
}
