package io.electra.engine.cpu;

import io.electra.engine.Tensor;

import java.util.Arrays;

/**
 * Row-wise LayerNorm over the last axis C:
 * out = (x - mean) * rstd * weight + bias, var biased, rstd = 1 / sqrt(var + eps).
 * The variance takes two passes (mean first, then squared deviations): the one-pass form
 * E[x^2] - mean^2 cancels catastrophically when |mean| is large against the spread.
 * Backward: with xhat = (x - mean) rstd and g = dOut * weight,
 * dx = rstd (g - mean(g) - xhat mean(g xhat)); dWeight = sum over rows dOut xhat; dBias = sum dOut.
 */
final class LayerNormCpu {
    private final Parallel parallel;

    LayerNormCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /** out [N,C], mean [N], rstd [N], in [N,C], weight [C], bias [C]. */
    void forward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias, float eps) {
        int rows = in.rowsFlat(), cols = in.cols();
        parallel.parallelFor(rows, 8L * cols, (r0, r1) -> {
            double[] w = Scratch.get(0, cols), b = Scratch.get(1, cols), x = Scratch.get(2, cols);
            Elements.load(weight, 0, w, 0, cols);
            Elements.load(bias, 0, b, 0, cols);
            for (int r = r0; r < r1; r++) {
                Elements.load(in, (long) r * cols, x, 0, cols);
                double m = 0;
                for (int c = 0; c < cols; c++) m += x[c];
                m /= cols;
                double var = 0;
                for (int c = 0; c < cols; c++) {
                    double d = x[c] - m;
                    var += d * d;
                }
                double s = 1 / Math.sqrt(var / cols + eps);
                for (int c = 0; c < cols; c++) x[c] = (x[c] - m) * s * w[c] + b[c];
                Elements.store(out, (long) r * cols, x, 0, cols);
                Elements.set(mean, r, m);
                Elements.set(rstd, r, s);
            }
        });
    }

    void backward(Tensor dIn, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor in, Tensor mean, Tensor rstd,
                  Tensor weight) {
        int rows = in.rowsFlat(), cols = in.cols();
        parallel.parallelFor(rows, 10L * cols, (r0, r1) -> {
            double[] w = Scratch.get(0, cols), x = Scratch.get(1, cols), g = Scratch.get(2, cols);
            Elements.load(weight, 0, w, 0, cols);
            for (int r = r0; r < r1; r++) {
                Elements.load(in, (long) r * cols, x, 0, cols);
                Elements.load(dOut, (long) r * cols, g, 0, cols);
                double m = Elements.get(mean, r), s = Elements.get(rstd, r);
                double meanG = 0, meanGx = 0;
                for (int c = 0; c < cols; c++) {
                    x[c] = (x[c] - m) * s; // xhat
                    g[c] *= w[c];
                    meanG += g[c];
                    meanGx += g[c] * x[c];
                }
                meanG /= cols;
                meanGx /= cols;
                for (int c = 0; c < cols; c++) g[c] = s * (g[c] - meanG - x[c] * meanGx);
                Elements.addTo(dIn, (long) r * cols, g, 0, cols);
            }
        });
        // Parameter gradients: each thread owns a range of columns and sums rows in order, so the
        // result is the same for any thread count.
        parallel.parallelFor(cols, 4L * rows, (c0, c1) -> {
            int width = c1 - c0;
            double[] dw = Scratch.get(0, width), db = Scratch.get(1, width);
            double[] x = Scratch.get(2, width), g = Scratch.get(3, width);
            Arrays.fill(dw, 0, width, 0);
            Arrays.fill(db, 0, width, 0);
            for (int r = 0; r < rows; r++) {
                Elements.load(in, (long) r * cols + c0, x, 0, width);
                Elements.load(dOut, (long) r * cols + c0, g, 0, width);
                double m = Elements.get(mean, r), s = Elements.get(rstd, r);
                for (int c = 0; c < width; c++) {
                    dw[c] += g[c] * (x[c] - m) * s;
                    db[c] += g[c];
                }
            }
            Elements.addTo(dWeight, c0, dw, 0, width);
            Elements.addTo(dBias, c0, db, 0, width);
        });
    }
}
