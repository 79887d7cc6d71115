package io.electra.kernels.ops;

import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.ErrorWord;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Workspace;

import static io.electra.kernels.ops.Operands.shape;

/**
 * Launcher for embedding.cu: row lookup (embedding, gatherRows) and the deterministic
 * accumulate-by-id (embedding gradient, scatterAddRows) through a sort of (id, row) keys.
 */
public final class EmbeddingKernels {
    private static final int RUN_CHUNK = 32;  // sorted positions per chunk (embedding.cu: S)

    private final Launcher launcher;
    private final Operands operands;
    private final SortKernels sort;
    private final Workspace workspace;
    private final Kernel forward, forwardSum, keys, chunks, fixup;

    public EmbeddingKernels(CudaRuntime runtime, Operands operands, SortKernels sort) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.sort = sort;
        this.workspace = runtime.workspace();
        forward = runtime.kernel(Family.EMBEDDING, "embedding_forward");
        forwardSum = runtime.kernel(Family.EMBEDDING, "embedding_forward_sum3");
        keys = runtime.kernel(Family.EMBEDDING, "embedding_backward_keys");
        chunks = runtime.kernel(Family.EMBEDDING, "embedding_backward_chunks");
        fixup = runtime.kernel(Family.EMBEDDING, "embedding_backward_fixup");
    }

    /** out[N,C] = table[ids[n]]. */
    public void forward(Tensor out, Tensor table, Tensor ids) {
        lookup(out, table, ids, "table", "ids", ErrorWord.Code.EMBEDDING_ID);
    }

    /** out[N,C] = (t0[ids0[n]] + t1[ids1[n]]) + t2[ids2[n]]. */
    public void forwardSum(Tensor out, Tensor t0, Tensor ids0, Tensor t1, Tensor ids1, Tensor t2, Tensor ids2) {
        Kernel k = forwardSum;
        int N = Math.toIntExact(ids0.size()), C = t0.cols();
        if (out.rowsFlat() != N || out.cols() != C || t1.cols() != C || t2.cols() != C || ids1.size() != N || ids2.size() != N) {
            throw shape(k, "out " + out.describe() + " must be [" + N + ", " + C + "] for ids " + ids0.describe() + ", "
                    + ids1.describe() + ", " + ids2.describe() + " into tables " + t0.describe() + ", " + t1.describe() + ", "
                    + t2.describe());
        }
        long o = operands.f32(k, out);
        long a0 = operands.f32(k, t0), i0 = operands.i32(k, ids0), a1 = operands.f32(k, t1), i1 = operands.i32(k, ids1);
        long a2 = operands.f32(k, t2), i2 = operands.i32(k, ids2);
        long n = (long) N * C;
        if (n == 0) return;
        launcher.args().ptr(o).ptr(a0).ptr(i0).i32(t0.rowsFlat()).ptr(a1).ptr(i1).i32(t1.rowsFlat()).ptr(a2).ptr(i2)
                .i32(t2.rowsFlat()).i32(N).i32(C).ptr(launcher.errorWord()).i32(ErrorWord.Code.EMBEDDING_SUM_FIRST.bit())
                .i32(ErrorWord.Code.EMBEDDING_SUM_SECOND.bit()).i32(ErrorWord.Code.EMBEDDING_SUM_THIRD.bit());
        launcher.launch(k, launcher.gridStride(n), Launcher.BLOCK);
    }

    /** out[K,C] = in[index[k]]. */
    public void gather(Tensor out, Tensor in, Tensor index) {
        lookup(out, in, index, "in", "index", ErrorWord.Code.GATHER_INDEX);
    }

    /** dTable[ids[n]] += dOut[n], the same bits every run. */
    public void backward(Tensor dTable, Tensor dOut, Tensor ids) {
        accumulateRows(dTable, dOut, ids, "dTable", "ids", ErrorWord.Code.EMBEDDING_BACKWARD_ID);
    }

    /** dIn[index[k]] += dOut[k], the same bits every run. */
    public void scatterAdd(Tensor dIn, Tensor dOut, Tensor index) {
        accumulateRows(dIn, dOut, index, "dIn", "index", ErrorWord.Code.SCATTER_INDEX);
    }

    private void lookup(Tensor out, Tensor table, Tensor ids, String tableRole, String idsRole, ErrorWord.Code code) {
        Kernel k = forward;
        int N = Math.toIntExact(ids.size()), C = table.cols(), V = table.rowsFlat();
        if (out.rowsFlat() != N || out.cols() != C) {
            throw shape(k, "out " + out.describe() + " must be [" + N + ", " + C + "] for " + idsRole + " " + ids.describe());
        }
        long o = operands.f32(k, out), t = operands.f32(k, table), i = operands.i32(k, ids);
        long n = (long) N * C;
        if (n == 0) return;
        launcher.args().ptr(o).ptr(t).ptr(i).i32(N).i32(C).i32(V).ptr(launcher.errorWord()).i32(code.bit());
        launcher.launch(k, launcher.gridStride(n), Launcher.BLOCK);
    }

    private void accumulateRows(Tensor dTable, Tensor dOut, Tensor ids, String tableRole, String idsRole, ErrorWord.Code code) {
        Kernel k = keys;
        int N = Math.toIntExact(ids.size()), C = dTable.cols(), V = dTable.rowsFlat();
        if (dOut.rowsFlat() != N || dOut.cols() != C) {
            throw shape(k, "dOut " + dOut.describe() + " must be [" + N + ", " + C + "] for " + idsRole + " " + ids.describe());
        }
        long table = operands.f32(chunks, dTable), grad = operands.f32(chunks, dOut), id = operands.i32(k, ids);
        if (N == 0 || C == 0) return;
        long p = SortKernels.paddedLength(N);
        int runChunks = (N + RUN_CHUNK - 1) / RUN_CHUNK;
        long partialBytes = 4L * runChunks * C;
        workspace.reserve(8 * p + 2 * partialBytes, 3);
        long keyAddress = workspace.take(8 * p);
        long partialIn = workspace.take(partialBytes), partialOut = workspace.take(partialBytes);

        launcher.args().ptr(keyAddress).ptr(id).i32(N).i64(p).i32(V).ptr(launcher.errorWord()).i32(code.bit());
        launcher.launch(k, (int) ((p + Launcher.BLOCK - 1) / Launcher.BLOCK), Launcher.BLOCK);
        sort.sort(keyAddress, p);
        int columnBlocks = (C + Launcher.BLOCK - 1) / Launcher.BLOCK;
        launcher.args().ptr(table).ptr(partialIn).ptr(partialOut).ptr(keyAddress).ptr(grad).i32(N).i32(C).i32(RUN_CHUNK);
        launcher.launch(chunks, runChunks, columnBlocks, 1, Launcher.BLOCK, 0);
        launcher.args().ptr(table).ptr(partialIn).ptr(partialOut).ptr(keyAddress).i32(N).i32(C).i32(RUN_CHUNK);
        launcher.launch(fixup, runChunks, columnBlocks, 1, Launcher.BLOCK, 0);
    }
}
