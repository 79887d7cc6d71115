package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;

/**
 * Row gathers and their scatter-add backward: the embedding lookup (out[n] = table[ids[n]]) and
 * the selection of masked positions (out[k] = in[index[k]]) are the same kernel.
 * The scatter-add splits work over column ranges, not over rows: every thread visits all rows in
 * order for its own columns, so duplicate indices never race and the sums come out the same on
 * every run and for every thread count.
 */
final class EmbeddingCpu {
    private final Parallel parallel;

    EmbeddingCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /** out[K,C] = src[index[k]]. */
    void gather(Tensor out, Tensor src, Tensor index) {
        int rows = out.rowsFlat(), cols = out.cols();
        parallel.parallelFor(rows, cols, (r0, r1) -> {
            double[] x = Scratch.get(0, cols);
            for (int r = r0; r < r1; r++) {
                Elements.load(src, (long) Elements.getInt(index, r) * cols, x, 0, cols);
                Elements.store(out, (long) r * cols, x, 0, cols);
            }
        });
    }

    /**
     * out[n] = (t0[ids0[n]] + t1[ids1[n]]) + t2[ids2[n]], the first sum rounded to out's dtype before the
     * second is added: the bits of two adds (which {@link ElementwiseCpu} computes in double and rounds).
     */
    void gatherSum(Tensor out, Tensor t0, Tensor ids0, Tensor t1, Tensor ids1, Tensor t2, Tensor ids2) {
        int rows = out.rowsFlat(), cols = out.cols();
        boolean f32 = out.dtype() == DType.F32;
        parallel.parallelFor(rows, 3L * cols, (r0, r1) -> {
            double[] x = Scratch.get(0, cols), y = Scratch.get(1, cols);
            for (int r = r0; r < r1; r++) {
                Elements.load(t0, (long) Elements.getInt(ids0, r) * cols, x, 0, cols);
                Elements.load(t1, (long) Elements.getInt(ids1, r) * cols, y, 0, cols);
                for (int c = 0; c < cols; c++) x[c] = f32 ? (float) (x[c] + y[c]) : x[c] + y[c];
                Elements.load(t2, (long) Elements.getInt(ids2, r) * cols, y, 0, cols);
                for (int c = 0; c < cols; c++) x[c] += y[c];
                Elements.store(out, (long) r * cols, x, 0, cols);
            }
        });
    }

    /** dst[index[k]] += src[k]. */
    void scatterAdd(Tensor dst, Tensor src, Tensor index) {
        int rows = src.rowsFlat(), cols = src.cols();
        parallel.parallelFor(cols, rows, (c0, c1) -> {
            int width = c1 - c0;
            double[] x = Scratch.get(0, width);
            for (int r = 0; r < rows; r++) {
                Elements.load(src, (long) r * cols + c0, x, 0, width);
                Elements.addTo(dst, (long) Elements.getInt(index, r) * cols + c0, x, 0, width);
            }
        });
    }

    /** The first index outside [0, limit), or -1: callers turn it into an error naming the tensor. */
    static int firstOutOfRange(Tensor index, int limit) {
        int[] ids = (int[]) index.storage();
        int base = Elements.index(index, 0), n = Math.toIntExact(index.size());
        for (int i = 0; i < n; i++) {
            int id = ids[base + i];
            if (id < 0 || id >= limit) return i;
        }
        return -1;
    }
}
