package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;

import java.util.Arrays;

/**
 * The tail of a post-LN block, {@code out = LayerNorm(dropout(x) + residual)}, one row at a time: the
 * sum is made and normalised while the row is in cache, and the backward hands dSum straight to the
 * residual and (through the regenerated mask) to x, where the unfused ops make four more passes and a
 * zero-filled buffer. Bit for bit {@link DropoutCpu}, {@link ElementwiseCpu#add} and {@link LayerNormCpu}
 * in turn (a float sum equals the double sum rounded once), except that a gradient of -0 may come out +0.
 */
final class ResidualLayerNormCpu {
    private final Parallel parallel;
    private final LayerNormCpu layerNorm;

    ResidualLayerNormCpu(Parallel parallel, LayerNormCpu layerNorm) {
        this.parallel = parallel;
        this.layerNorm = layerNorm;
    }

    /** sum = dropout(x) + residual, out = LayerNorm(sum), outBf16 (F32 out only; may be null) = bf16(out); p = 0 is no dropout. */
    void forward(Tensor out, Tensor outBf16, Tensor sum, Tensor mean, Tensor rstd, Tensor x, Tensor residual, Tensor weight, Tensor bias,
                 float eps, float p, RngKey key) {
        int rows = x.rowsFlat(), cols = x.cols();
        if (!(x.storage() instanceof float[] xs)) {  // F64: the unfused reference, pass by pass
            parallel.parallelFor(rows, 4L * cols, (r0, r1) -> {
                double[] a = Scratch.get(0, cols), b = Scratch.get(1, cols), keep = Scratch.get(2, cols);
                for (int r = r0; r < r1; r++) {
                    long at = (long) r * cols;
                    Elements.load(x, at, a, 0, cols);
                    Elements.load(residual, at, b, 0, cols);
                    if (p > 0) DropoutCpu.keepScale(key, at, keep, 0, cols, p);
                    for (int c = 0; c < cols; c++) a[c] = (p > 0 ? a[c] * keep[c] : a[c]) + b[c];
                    Elements.store(sum, at, a, 0, cols);
                }
            });
            layerNorm.forward(out, mean, rstd, sum, weight, bias, eps);
            return;
        }
        float[] rs = (float[]) residual.storage(), s = (float[]) sum.storage(), o = (float[]) out.storage();
        float[] w = (float[]) weight.storage(), b = (float[]) bias.storage();
        float[] mu = (float[]) mean.storage(), sd = (float[]) rstd.storage();
        int xo = Elements.index(x, 0), ro = Elements.index(residual, 0), so = Elements.index(sum, 0);
        int oo = Elements.index(out, 0), wo = Elements.index(weight, 0), bo = Elements.index(bias, 0);
        int mo = Elements.index(mean, 0), qo = Elements.index(rstd, 0);
        short[] ob = outBf16 == null ? null : (short[]) outBf16.storage();
        int obo = outBf16 == null ? 0 : Elements.index(outBf16, 0);
        parallel.parallelFor(rows, 10L * cols, (r0, r1) -> {
            float[] keep = Scratch.floats(0, cols);
            for (int r = r0; r < r1; r++) {
                int at = r * cols;
                if (p > 0) {
                    DropoutCpu.keepScale(key, at, keep, 0, cols, p);
                    for (int c = 0; c < cols; c++) s[so + at + c] = xs[xo + at + c] * keep[c] + rs[ro + at + c];
                } else {
                    for (int c = 0; c < cols; c++) s[so + at + c] = xs[xo + at + c] + rs[ro + at + c];
                }
                LayerNormF32.forwardRow(s, so + at, o, oo + at, w, wo, b, bo, cols, eps, mu, mo + r, sd, qo + r);
                if (ob != null) for (int c = 0; c < cols; c++) ob[obo + at + c] = CpuStorage.toBf16(o[oo + at + c]);
            }
        });
    }

    /** dSum from the LayerNorm backward, then dResidual (=|+=) dSum and dX (=|+=) dSum * keep. */
    void backward(Tensor dX, boolean accumulateX, Tensor dResidual, boolean accumulateResidual, Tensor dWeight,
                  Tensor dBias, Tensor dOut, Tensor sum, Tensor mean, Tensor rstd, Tensor weight, float p, RngKey key) {
        int rows = sum.rowsFlat(), cols = sum.cols();
        if (!(sum.storage() instanceof float[] x)) {  // F64: the LayerNorm backward into a zeroed dSum, then the two sinks
            double[] dSum = new double[Math.multiplyExact(rows, cols)];
            Tensor dSumT = new Tensor(sum.backend(), DType.F64, sum.shape(), dSum, 0, "dSum");
            layerNorm.backward(dSumT, dWeight, dBias, dOut, sum, mean, rstd, weight);
            parallel.parallelFor(rows, 4L * cols, (r0, r1) -> {
                double[] keep = Scratch.get(0, cols), d = Scratch.get(1, cols);
                for (int r = r0; r < r1; r++) {
                    long at = (long) r * cols;
                    if (dResidual != null) sink(dResidual, accumulateResidual, at, dSum, (int) at, cols);
                    if (dX == null) continue;
                    if (p > 0) DropoutCpu.keepScale(key, at, keep, 0, cols, p);
                    for (int c = 0; c < cols; c++) d[c] = p > 0 ? dSum[(int) at + c] * keep[c] : dSum[(int) at + c];
                    sink(dX, accumulateX, at, d, 0, cols);
                }
            });
            return;
        }
        float[] g = (float[]) dOut.storage(), w = (float[]) weight.storage();
        float[] mu = (float[]) mean.storage(), rs = (float[]) rstd.storage();
        float[] dx = dX == null ? null : (float[]) dX.storage(), dr = dResidual == null ? null : (float[]) dResidual.storage();
        int xo = Elements.index(sum, 0), go = Elements.index(dOut, 0), wo = Elements.index(weight, 0);
        int mo = Elements.index(mean, 0), ro = Elements.index(rstd, 0);
        int dxo = dX == null ? 0 : Elements.index(dX, 0), dro = dResidual == null ? 0 : Elements.index(dResidual, 0);
        int block = ElementwiseCpu.ROW_BLOCK, blocks = (rows + block - 1) / block;
        double[] partial = Scratch.get(4, 2 * blocks * cols);  // [block][dw | db][C], as LayerNormCpu.backwardF32
        parallel.parallelFor(blocks, 14L * block * cols, (b0, b1) -> {
            float[] dw = Scratch.floats(0, cols), db = Scratch.floats(1, cols);
            float[] dSum = Scratch.floats(2, cols), keep = Scratch.floats(3, cols);
            for (int b = b0; b < b1; b++) {
                Arrays.fill(dw, 0, cols, 0f);
                Arrays.fill(db, 0, cols, 0f);
                for (int r = b * block; r < Math.min(rows, (b + 1) * block); r++) {
                    int at = r * cols;
                    Arrays.fill(dSum, 0, cols, 0f);
                    LayerNormF32.backwardRow(x, xo + at, g, go + at, w, wo, mu[mo + r], rs[ro + r], dSum, 0, dw, db, cols);
                    if (dr != null) {
                        if (accumulateResidual) for (int c = 0; c < cols; c++) dr[dro + at + c] += dSum[c];
                        else System.arraycopy(dSum, 0, dr, dro + at, cols);
                    }
                    if (dx == null) continue;
                    if (p > 0) {
                        DropoutCpu.keepScale(key, at, keep, 0, cols, p);
                        for (int c = 0; c < cols; c++) dSum[c] *= keep[c];
                    }
                    if (accumulateX) for (int c = 0; c < cols; c++) dx[dxo + at + c] += dSum[c];
                    else System.arraycopy(dSum, 0, dx, dxo + at, cols);
                }
                for (int c = 0; c < cols; c++) {
                    partial[2 * b * cols + c] = dw[c];
                    partial[(2 * b + 1) * cols + c] = db[c];
                }
            }
        });
        LayerNormCpu.addPartials(dWeight, dBias, partial, blocks, cols);
    }

    private static void sink(Tensor t, boolean accumulate, long at, double[] src, int off, int n) {
        if (accumulate) Elements.addTo(t, at, src, off, n);
        else Elements.store(t, at, src, off, n);
    }
}
