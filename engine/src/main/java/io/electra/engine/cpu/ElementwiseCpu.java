package io.electra.engine.cpu;

import io.electra.engine.Tensor;

import java.util.Arrays;

/**
 * Elementwise kernels and whole-tensor reductions: bias add, add, accumulate, scale, sum. Work is cut
 * into fixed chunks of {@value #CHUNK} elements; reductions sum each chunk in double and then the
 * chunk sums in order, so results do not depend on the thread count.
 */
final class ElementwiseCpu {
    static final int CHUNK = 4096;
    /** Rows per float partial sum in the F32 column sums. */
    static final int ROW_BLOCK = 64;
    private final Parallel parallel;

    ElementwiseCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /** out[N,C] = in[N,C] + bias[C]. */
    void biasAdd(Tensor out, Tensor in, Tensor bias) {
        int rows = in.rowsFlat(), cols = in.cols();
        if (out.storage() instanceof float[] o) { // F32: plain float loops, which the JIT vectorises
            float[] x = (float[]) in.storage(), b = (float[]) bias.storage();
            int oo = Elements.index(out, 0), xo = Elements.index(in, 0), bo = Elements.index(bias, 0);
            parallel.parallelFor(rows, cols, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int or = oo + r * cols, xr = xo + r * cols;
                    for (int c = 0; c < cols; c++) o[or + c] = x[xr + c] + b[bo + c];
                }
            });
            return;
        }
        parallel.parallelFor(rows, cols, (r0, r1) -> {
            double[] b = Scratch.get(0, cols), x = Scratch.get(1, cols);
            Elements.load(bias, 0, b, 0, cols);
            for (int r = r0; r < r1; r++) {
                Elements.load(in, (long) r * cols, x, 0, cols);
                for (int c = 0; c < cols; c++) x[c] += b[c];
                Elements.store(out, (long) r * cols, x, 0, cols);
            }
        });
    }

    /**
     * dBias[C] += column sums of dOut[N,C]; each thread owns a range of columns, summed in row order.
     * F32 (and BF16, widened) sums blocks of {@value #ROW_BLOCK} rows in float (vectorised) and the block
     * sums in double, in block order.
     */
    void biasBackward(Tensor dBias, Tensor dOut) {
        int rows = dOut.rowsFlat(), cols = dOut.cols();
        if (dOut.storage() instanceof float[] || dOut.storage() instanceof short[]) {
            // Blocks of rows, not ranges of columns, go to the threads (a row is only C long, too
            // short to split); each block's float sums land in its own row of partial, which is then
            // summed in block order. The blocks are fixed, so the bits do not depend on the threads.
            // A BF16 dOut (mixed precision's attention gradients) is widened exactly and summed alike.
            float[] d = dOut.storage() instanceof float[] f ? f : null;
            short[] h = d == null ? (short[]) dOut.storage() : null;
            float[] db = (float[]) dBias.storage();
            int dOff = Elements.index(dOut, 0), bOff = Elements.index(dBias, 0);
            int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
            double[] partial = new double[blocks * cols];
            parallel.parallelFor(blocks, (long) ROW_BLOCK * cols, (b0, b1) -> {
                float[] block = Scratch.floats(0, cols);
                for (int b = b0; b < b1; b++) {
                    Arrays.fill(block, 0, cols, 0f);
                    for (int r = b * ROW_BLOCK; r < Math.min(rows, (b + 1) * ROW_BLOCK); r++) {
                        int at = dOff + r * cols;
                        if (d != null) for (int c = 0; c < cols; c++) block[c] += d[at + c];
                        else for (int c = 0; c < cols; c++) block[c] += Float.intBitsToFloat(h[at + c] << 16);
                    }
                    for (int c = 0; c < cols; c++) partial[b * cols + c] = block[c];
                }
            });
            double[] sum = Scratch.get(0, cols);
            Arrays.fill(sum, 0, cols, 0);
            for (int b = 0; b < blocks; b++) for (int c = 0; c < cols; c++) sum[c] += partial[b * cols + c];
            for (int c = 0; c < cols; c++) db[bOff + c] += (float) sum[c];
            return;
        }
        parallel.parallelFor(cols, rows, (c0, c1) -> {
            int w = c1 - c0;
            double[] sum = Scratch.get(0, w), x = Scratch.get(1, w);
            Arrays.fill(sum, 0, w, 0);
            for (int r = 0; r < rows; r++) {
                Elements.load(dOut, (long) r * cols + c0, x, 0, w);
                for (int c = 0; c < w; c++) sum[c] += x[c];
            }
            Elements.addTo(dBias, c0, sum, 0, w);
        });
    }

    /** out = alpha*a + beta*b. */
    void add(Tensor out, Tensor a, float alpha, Tensor b, float beta) {
        chunked(out.size(), (from, n) -> {
            double[] x = Scratch.get(0, n), y = Scratch.get(1, n);
            Elements.load(a, from, x, 0, n);
            Elements.load(b, from, y, 0, n);
            for (int i = 0; i < n; i++) x[i] = (double) alpha * x[i] + (double) beta * y[i];
            Elements.store(out, from, x, 0, n);
        });
    }

    /** dst += alpha * src. */
    void accumulate(Tensor dst, Tensor src, float alpha) {
        chunked(dst.size(), (from, n) -> {
            double[] x = Scratch.get(0, n);
            Elements.load(src, from, x, 0, n);
            for (int i = 0; i < n; i++) x[i] *= alpha;
            Elements.addTo(dst, from, x, 0, n);
        });
    }

    /** out = s * in. */
    void scale(Tensor out, Tensor in, float s) {
        chunked(out.size(), (from, n) -> {
            double[] x = Scratch.get(0, n);
            Elements.load(in, from, x, 0, n);
            for (int i = 0; i < n; i++) x[i] *= s;
            Elements.store(out, from, x, 0, n);
        });
    }

    /** out[] = alpha * sum(in). */
    void sum(Tensor out, Tensor in, float alpha) {
        Elements.set(out, 0, alpha * reduce(in, false));
    }

    /** dIn += alpha * dOut[] everywhere. */
    void sumBackward(Tensor dIn, Tensor dOut, float alpha) {
        double g = alpha * Elements.get(dOut, 0);
        chunked(dIn.size(), (from, n) -> {
            double[] x = Scratch.get(0, n);
            Arrays.fill(x, 0, n, g);
            Elements.addTo(dIn, from, x, 0, n);
        });
    }

    /** Sum of the elements (or of their squares) in double, independent of the thread count. */
    double reduce(Tensor in, boolean squares) {
        long size = in.size();
        int chunks = (int) ((size + CHUNK - 1) / CHUNK);
        double[] partial = new double[chunks];
        parallel.parallelFor(chunks, CHUNK, (c0, c1) -> {
            double[] x = Scratch.get(0, CHUNK);
            for (int c = c0; c < c1; c++) {
                long from = (long) c * CHUNK;
                int n = (int) Math.min(CHUNK, size - from);
                Elements.load(in, from, x, 0, n);
                double s = 0;
                if (squares) for (int i = 0; i < n; i++) s += x[i] * x[i];
                else for (int i = 0; i < n; i++) s += x[i];
                partial[c] = s;
            }
        });
        double total = 0;
        for (double p : partial) total += p;
        return total;
    }

    /** The work of elements {@code [from, from + n)}, n at most {@link #CHUNK}. */
    interface Chunk {
        void run(long from, int n);
    }

    /** Runs {@code body} over {@code size} elements in chunks of {@link #CHUNK}, in parallel. */
    void chunked(long size, Chunk body) {
        int chunks = (int) ((size + CHUNK - 1) / CHUNK);
        parallel.parallelFor(chunks, CHUNK, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                long from = (long) c * CHUNK;
                body.run(from, (int) Math.min(CHUNK, size - from));
            }
        });
    }
}
