package io.electra.engine.cpu;

import io.electra.engine.Tensor;

/** Row-wise softmax over the last axis, with the row maximum subtracted before exp. */
final class SoftmaxCpu {
    private final Parallel parallel;

    SoftmaxCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    void forward(Tensor out, Tensor in) {
        int rows = in.rowsFlat(), cols = in.cols();
        parallel.parallelFor(rows, 20L * cols, (r0, r1) -> {
            double[] x = Scratch.get(0, cols);
            for (int r = r0; r < r1; r++) {
                Elements.load(in, (long) r * cols, x, 0, cols);
                softmaxInPlace(x, 0, cols);
                Elements.store(out, (long) r * cols, x, 0, cols);
            }
        });
    }

    /** dIn += y * (dOut - sum(dOut * y)) per row. */
    void backward(Tensor dIn, Tensor dOut, Tensor out) {
        int rows = out.rowsFlat(), cols = out.cols();
        parallel.parallelFor(rows, 4L * cols, (r0, r1) -> {
            double[] y = Scratch.get(0, cols), g = Scratch.get(1, cols);
            for (int r = r0; r < r1; r++) {
                Elements.load(out, (long) r * cols, y, 0, cols);
                Elements.load(dOut, (long) r * cols, g, 0, cols);
                double dot = 0;
                for (int c = 0; c < cols; c++) dot += g[c] * y[c];
                for (int c = 0; c < cols; c++) g[c] = y[c] * (g[c] - dot);
                Elements.addTo(dIn, (long) r * cols, g, 0, cols);
            }
        });
    }

    /** x[from, from+n) = softmax of itself. */
    static void softmaxInPlace(double[] x, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = from; c < from + n; c++) max = Math.max(max, x[c]);
        double sum = 0;
        for (int c = from; c < from + n; c++) {
            x[c] = Math.exp(x[c] - max);
            sum += x[c];
        }
        double inv = 1 / sum;
        for (int c = from; c < from + n; c++) x[c] *= inv;
    }
}
