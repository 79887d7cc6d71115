package io.electra.engine.cpu;

import io.electra.engine.Tensor;

import java.util.Arrays;

import static io.electra.engine.cpu.ElementwiseCpu.ROW_BLOCK;

/**
 * A linear layer's output gradient made ready for its GEMMs in one pass over dOut [N, C]: g = dOut
 * (times gelu'(pre)), written to gradOut [N, C] (F32, BF16 or F64) and summed into dBias [C]. It
 * replaces GELU backward into a zeroed buffer, the copy to bf16 and the bias gradient, and keeps their
 * bits: g is computed in double by {@link GeluCpu#timesDerivative} and rounded once to the float that
 * buffer held (-0 stays -0, where adding into zeros gave +0); the column sums are
 * {@link ElementwiseCpu#biasBackward}'s (fixed blocks of {@value ElementwiseCpu#ROW_BLOCK} rows in float,
 * the block sums in double in block order; F64 sums its blocks in double), so the thread count does
 * not change them.
 */
final class LinearGradCpu {
    private final Parallel parallel;

    LinearGradCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /** gradOut = g, dBias (may be null) += column sums of g; pre null means no GELU. */
    void outputGrad(Tensor gradOut, Tensor dBias, Tensor dOut, Tensor pre) {
        int rows = dOut.rowsFlat(), cols = dOut.cols();
        boolean f32 = dOut.storage() instanceof float[], sums = dBias != null;
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        double[] partial = sums ? new double[blocks * cols] : null;  // [blocks, C]
        parallel.parallelFor(blocks, (long) ROW_BLOCK * cols * (pre == null ? 2 : 40), (b0, b1) -> {
            float[] sum32 = Scratch.floats(0, cols);
            double[] sum64 = Scratch.get(4, cols);  // slots 0 to 3 and 5 are the double rows' (derivativeRow)
            for (int b = b0; b < b1; b++) {
                Arrays.fill(sum32, 0, cols, 0f);
                Arrays.fill(sum64, 0, cols, 0);
                for (int r = b * ROW_BLOCK; r < Math.min(rows, (b + 1) * ROW_BLOCK); r++) {
                    if (f32 && pre == null) copyRow(gradOut, dOut, (long) r * cols, cols, sums ? sum32 : null);
                    else derivativeRow(gradOut, dOut, pre, (long) r * cols, cols, sums ? sum32 : null, sums ? sum64 : null);
                }
                if (sums) for (int c = 0; c < cols; c++) partial[b * cols + c] = f32 ? sum32[c] : sum64[c];
            }
        });
        if (!sums) return;
        double[] sum = new double[cols];
        for (int b = 0; b < blocks; b++) for (int c = 0; c < cols; c++) sum[c] += partial[b * cols + c];
        Elements.addTo(dBias, 0, sum, 0, cols);
    }

    /** F32 without GELU, g = dOut: plain float loops, which the JIT vectorises. */
    private static void copyRow(Tensor gradOut, Tensor dOut, long at, int cols, float[] sum) {
        float[] d = (float[]) dOut.storage();
        int from = Elements.index(dOut, at), to = Elements.index(gradOut, at);
        if (gradOut.storage() instanceof float[] o) System.arraycopy(d, from, o, to, cols);
        else {
            short[] o = (short[]) gradOut.storage();
            for (int c = 0; c < cols; c++) o[to + c] = CpuStorage.toBf16(d[from + c]);
        }
        if (sum != null) for (int c = 0; c < cols; c++) sum[c] += d[from + c];
    }

    /** Through double rows, as GeluCpu computes: F32 (into the float sums) or F64, with GELU or without. */
    private static void derivativeRow(Tensor gradOut, Tensor dOut, Tensor pre, long at, int cols, float[] sum32,
                                      double[] sum64) {
        double[] g = Scratch.get(0, cols), x = Scratch.get(1, cols);  // GeluCpu.timesDerivative takes 2, 3 and 5
        boolean f32 = dOut.storage() instanceof float[];
        Elements.load(dOut, at, g, 0, cols);
        if (pre != null) {
            Elements.load(pre, at, x, 0, cols);
            GeluCpu.timesDerivative(g, x, cols, f32);
        }
        Elements.store(gradOut, at, g, 0, cols);  // a BF16 gradOut: the float g, rounded once
        if (sum32 == null) return;
        if (f32) for (int c = 0; c < cols; c++) sum32[c] += (float) g[c];
        else for (int c = 0; c < cols; c++) sum64[c] += g[c];
    }
}
