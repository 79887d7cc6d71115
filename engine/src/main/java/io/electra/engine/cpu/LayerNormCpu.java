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
 * The loops below are the reference (F64, and anything else); F32 runs on its own arrays, one row at a
 * time, in {@link LayerNormF32}.
 */
final class LayerNormCpu {
    private final Parallel parallel;

    LayerNormCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /** out [N,C], mean [N], rstd [N], in [N,C], weight [C], bias [C]. */
    void forward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias, float eps) {
        int rows = in.rowsFlat(), cols = in.cols();
        if (in.storage() instanceof float[] x) {
            float[] o = (float[]) out.storage(), w = (float[]) weight.storage(), b = (float[]) bias.storage();
            float[] mu = (float[]) mean.storage(), rs = (float[]) rstd.storage();
            int xo = Elements.index(in, 0), oo = Elements.index(out, 0), wo = Elements.index(weight, 0);
            int bo = Elements.index(bias, 0), mo = Elements.index(mean, 0), ro = Elements.index(rstd, 0);
            parallel.parallelFor(rows, 8L * cols, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    LayerNormF32.forwardRow(x, xo + r * cols, o, oo + r * cols, w, wo, b, bo, cols, eps, mu, mo + r, rs, ro + r);
                }
            });
            return;
        }
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
        if (in.storage() instanceof float[]) {
            backwardF32(dIn, dWeight, dBias, dOut, in, mean, rstd, weight, rows, cols);
            return;
        }
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

    /**
     * F32: one pass over fixed blocks of {@link ElementwiseCpu#ROW_BLOCK} rows that writes dx and sums
     * the block's parameter gradients in float; the block sums are then added in double, in block
     * order, so the bits do not depend on the thread count.
     */
    private void backwardF32(Tensor dIn, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor in, Tensor mean,
                             Tensor rstd, Tensor weight, int rows, int cols) {
        float[] x = (float[]) in.storage(), g = (float[]) dOut.storage(), w = (float[]) weight.storage();
        float[] d = (float[]) dIn.storage(), mu = (float[]) mean.storage(), rs = (float[]) rstd.storage();
        int xo = Elements.index(in, 0), go = Elements.index(dOut, 0), wo = Elements.index(weight, 0);
        int dOff = Elements.index(dIn, 0), mo = Elements.index(mean, 0), ro = Elements.index(rstd, 0);
        int block = ElementwiseCpu.ROW_BLOCK, blocks = (rows + block - 1) / block;
        // [block][dw | db][C], the calling thread's scratch row: each worker writes only its own blocks
        double[] partial = Scratch.get(4, 2 * blocks * cols);
        parallel.parallelFor(blocks, 12L * block * cols, (b0, b1) -> {
            float[] dw = Scratch.floats(0, cols), db = Scratch.floats(1, cols);
            for (int b = b0; b < b1; b++) {
                Arrays.fill(dw, 0, cols, 0f);
                Arrays.fill(db, 0, cols, 0f);
                for (int r = b * block; r < Math.min(rows, (b + 1) * block); r++) {
                    LayerNormF32.backwardRow(x, xo + r * cols, g, go + r * cols, w, wo, mu[mo + r], rs[ro + r],
                            d, dOff + r * cols, dw, db, cols);
                }
                for (int c = 0; c < cols; c++) {
                    partial[2 * b * cols + c] = dw[c];
                    partial[(2 * b + 1) * cols + c] = db[c];
                }
            }
        });
        addPartials(dWeight, dBias, partial, blocks, cols);
    }

    /** dWeight, dBias (F32) += the block partials [block][dw | db][C], summed in double in block order. */
    static void addPartials(Tensor dWeight, Tensor dBias, double[] partial, int blocks, int cols) {
        float[] dW = (float[]) dWeight.storage(), dB = (float[]) dBias.storage();
        int dwo = Elements.index(dWeight, 0), dbo = Elements.index(dBias, 0);
        for (int c = 0; c < cols; c++) {
            double sw = 0, sb = 0;
            for (int b = 0; b < blocks; b++) {
                sw += partial[2 * b * cols + c];
                sb += partial[(2 * b + 1) * cols + c];
            }
            dW[dwo + c] += (float) sw;
            dB[dbo + c] += (float) sb;
        }
    }
}
