package io.electra.kernels.ops;

import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;

import static io.electra.kernels.ops.Operands.shape;

/** Launcher for gemm.cu: 64 x 64 tiles of C per 256-thread block, batches on grid.z. */
public final class GemmKernels {
    private static final int TILE = 64;
    private final Launcher launcher;
    private final Operands operands;
    private final Kernel nn, nt, tn, tt;

    public GemmKernels(CudaRuntime runtime, Operands operands) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        nn = runtime.kernel(Family.GEMM, "gemm_forward_nn");
        nt = runtime.kernel(Family.GEMM, "gemm_forward_nt");
        tn = runtime.kernel(Family.GEMM, "gemm_forward_tn");
        tt = runtime.kernel(Family.GEMM, "gemm_forward_tt");
    }

    /** out (=|+=) alpha * op(a) @ op(b); 2-D, or 3-D batched over axis 0. */
    public void matmul(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate) {
        Kernel k = kernel(transA, transB);
        int rank = a.rank();
        if ((rank != 2 && rank != 3) || b.rank() != rank || out.rank() != rank) {
            throw shape(k, "a " + a.describe() + ", b " + b.describe() + ", out " + out.describe() + " must all be 2-D or all 3-D");
        }
        int batch = rank == 3 ? a.dim(0) : 1;
        if (rank == 3 && (b.dim(0) != batch || out.dim(0) != batch)) {
            throw shape(k, "batch sizes differ: a " + a.describe() + ", b " + b.describe() + ", out " + out.describe());
        }
        int M = transA ? a.dim(-1) : a.dim(-2), K = transA ? a.dim(-2) : a.dim(-1);
        int kb = transB ? b.dim(-1) : b.dim(-2), N = transB ? b.dim(-2) : b.dim(-1);
        if (kb != K || out.dim(-2) != M || out.dim(-1) != N) {
            throw shape(k, "op(a) is [" + M + ", " + K + "], op(b) [" + kb + ", " + N + "], out " + out.describe());
        }
        run(k, operands.f32(k, out), operands.f32(k, a), operands.f32(k, b), M, N, K, batch, alpha, accumulate);
    }

    /** Batched C[z] (=|+=) alpha * op(A[z]) op(B[z]) on raw addresses (attention's scratch buffers). */
    void batched(long c, long a, boolean transA, long b, boolean transB, int M, int N, int K, int batch, float alpha,
                 boolean accumulate) {
        run(kernel(transA, transB), c, a, b, M, N, K, batch, alpha, accumulate);
    }

    private void run(Kernel k, long c, long a, long b, int M, int N, int K, int batch, float alpha, boolean accumulate) {
        if (M == 0 || N == 0 || batch == 0) return;
        // K == 0 still runs: the product is zero, so C is overwritten with 0 (or left as is).
        launcher.args().ptr(c).ptr(a).ptr(b).i32(M).i32(N).i32(K).f32(alpha).i32(accumulate ? 1 : 0);
        launcher.launch(k, (N + TILE - 1) / TILE, (M + TILE - 1) / TILE, batch, Launcher.BLOCK, 0);
    }

    private Kernel kernel(boolean transA, boolean transB) {
        return transA ? (transB ? tt : tn) : (transB ? nt : nn);
    }
}
