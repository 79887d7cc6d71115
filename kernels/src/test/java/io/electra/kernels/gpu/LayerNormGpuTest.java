package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.BF16;
import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * layernorm.cu against the CPU backend (two-pass variance there, fp32 warp reductions here), the
 * post-LN block's fused dropout + residual + LayerNorm included.
 */
@Tag("gpu")
class LayerNormGpuTest {
    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 1", "7, 7", "33, 33", "1000, 1000", "256, 256", "1024, 768"})
    void forwardMatchesTheCpu(int rows, int cols) {
        try (Twins tw = new Twins(rows + 7L * cols)) {
            Twin in = tw.normal(3, rows, cols), w = tw.normal(1, cols), bias = tw.normal(1, cols);
            Twin out = tw.zeros(F32, rows, cols), mean = tw.zeros(F32, rows), rstd = tw.zeros(F32, rows);
            tw.both(b -> b.layerNormForward(out.on(b), mean.on(b), rstd.on(b), in.on(b), w.on(b), bias.on(b), 1e-12f));
            tw.expectClose("layernorm_forward", out, 1e-5, 1e-4);
            tw.expectClose("layernorm_forward", mean, 1e-6, 1e-4);
            tw.expectClose("layernorm_forward", rstd, 1e-6, 1e-4);
        }
    }

    /** The sum is bit-identical (same mask, product rounded before the add); LayerNorm as layernorm_forward. */
    @ParameterizedTest(name = "[{0}, {1}] p {2}")
    @CsvSource({"1, 1, 0.1", "7, 7, 0.1", "33, 33, 0", "33, 33, 0.5", "5, 130, 0.1", "256, 256, 0.1", "1024, 768, 0.1",
            "1024, 768, 0"})
    void dropoutResidualForwardMatchesTheCpu(int rows, int cols, float p) {
        try (Twins tw = new Twins(rows + 11L * cols)) {
            RngKey key = new RngKey(7, 3, 40);
            Twin x = tw.normal(1, rows, cols), res = tw.normal(1, rows, cols), w = tw.normal(1, cols), bias = tw.normal(1, cols);
            Twin out = tw.zeros(F32, rows, cols), sum = tw.zeros(F32, rows, cols);
            Twin mean = tw.zeros(F32, rows), rstd = tw.zeros(F32, rows);
            Twin outBf16 = tw.bf16Zeros(rows, cols);
            // (the CPU side, the reference for out, runs without it: its twin of a bf16 tensor is F32)
            tw.both(b -> b.dropoutAddLayerNormForward(out.on(b), b == tw.gpu ? outBf16.gpu() : null, sum.on(b), mean.on(b),
                    rstd.on(b), x.on(b), res.on(b), w.on(b), bias.on(b), 1e-12f, p, key));
            tw.expectIdentical("layernorm_forward_dropout_residual", tw.cpu.downloadFloat(sum.cpu()), tw.gpu.downloadFloat(sum.gpu()));
            // the bf16 side output is the GPU's own out rounded once to nearest even
            float[] gpuOut = tw.gpu.downloadFloat(out.gpu()), rounded = new float[gpuOut.length];
            for (int i = 0; i < gpuOut.length; i++) rounded[i] = HalfFloats.roundToBf16(gpuOut[i]);
            tw.expectIdentical("layernorm_forward_dropout_residual", rounded, tw.gpu.downloadFloat(outBf16.gpu()));
            tw.expectClose("layernorm_forward_dropout_residual", out, 1e-5, 1e-4);
            tw.expectClose("layernorm_forward_dropout_residual", mean, 1e-6, 1e-4);
            tw.expectClose("layernorm_forward_dropout_residual", rstd, 1e-6, 1e-4);
        }
    }

    /** Both gradients overwritten or added into (non-zero starts), or one of them absent; the mask regenerated. */
    @ParameterizedTest(name = "[{0}, {1}] p {2} accumulate x {3} residual {4}")
    @CsvSource({"1, 1, 0.1, false, false, both", "7, 7, 0.1, true, false, both", "33, 33, 0, false, true, both",
            "5, 130, 0.5, true, true, both", "256, 256, 0.1, false, false, x", "1024, 768, 0.1, true, false, residual",
            "1000, 1000, 0.1, false, true, both"})
    void dropoutResidualBackwardMatchesTheCpu(int rows, int cols, float p, boolean accX, boolean accR, String which) {
        try (Twins tw = new Twins(rows + 19L * cols)) {
            RngKey key = new RngKey(9, 1, 41);
            Tail tail = Tail.forward(tw, rows, cols, p, key);
            Twin sum = tail.sum(), mean = tail.mean(), rstd = tail.rstd(), w = tail.weight();
            Twin dOut = tw.normal(1, rows, cols), dX = tw.normal(1, rows, cols), dR = tw.normal(1, rows, cols);
            Twin dW = tw.normal(1, cols), dB = tw.normal(1, cols);
            boolean wantX = !which.equals("residual"), wantR = !which.equals("x");
            tw.both(b -> b.dropoutAddLayerNormBackward(wantX ? dX.on(b) : null, accX, wantR ? dR.on(b) : null, accR, dW.on(b),
                    dB.on(b), dOut.on(b), sum.on(b), mean.on(b), rstd.on(b), w.on(b), p, key));
            tw.expectClose("layernorm_backward_dropout_residual", dX, 1e-5, 1e-4);
            tw.expectClose("layernorm_backward_dropout_residual", dR, 1e-5, 1e-4);
            double sumTol = 1e-5 * Math.sqrt(rows);
            tw.expectClose("layernorm_backward_dropout_residual+reduce_forward_columns", dW, sumTol, 1e-4);
            tw.expectClose("layernorm_backward_dropout_residual+reduce_forward_columns", dB, sumTol, 1e-4);
        }
    }

    /**
     * The tail's backward into a linear layer's output (layernorm_backward_dropout_residual_linear): dX is
     * the plain kernel's dX to the bit (F32), or that rounded to nearest even (BF16); the linear's bias
     * gradient is the column sums of the GPU's own f32 dX within the f32 summation bound ({@link ColumnSums}),
     * and matches the CPU as the other column sums do. Widths up to 1024 run the kernel (1000: a lane's
     * last group is partial); wider rows take the composed path.
     */
    @ParameterizedTest(name = "[{0}, {1}] p {2} dX {3} residual {4}")
    @CsvSource({"1, 1, 0.1, F32, true", "7, 7, 0.1, BF16, true", "33, 33, 0, F32, false", "70, 256, 0.1, BF16, true",
            "100, 1000, 0.1, F32, true", "64, 1024, 0.5, BF16, false", "40, 768, 0.1, BF16, true", "9, 1100, 0.1, F32, true"})
    void dropoutResidualBackwardIntoALinearMatchesThePlainKernelAndTheCpu(int rows, int cols, float p, DType dXType,
                                                                         boolean withResidual) {
        try (Twins tw = new Twins(rows * 7L + cols)) {
            RngKey key = new RngKey(4, 2, 43);
            Tail tail = Tail.forward(tw, rows, cols, p, key);
            Twin sum = tail.sum(), mean = tail.mean(), rstd = tail.rstd(), w = tail.weight();
            Twin dOut = tw.normal(1, rows, cols), dR = tw.normal(1, rows, cols), dW = tw.normal(1, cols), dB = tw.normal(1, cols);
            Twin dX = dXType == BF16 ? tw.bf16Zeros(rows, cols) : tw.zeros(F32, rows, cols), dXBias = tw.normal(1, cols);
            float[] biasStart = tw.gpu.downloadFloat(dXBias.gpu());
            tw.both(b -> b.dropoutAddLayerNormBackwardToLinear(dX.on(b), dXBias.on(b), withResidual ? dR.on(b) : null, true,
                    dW.on(b), dB.on(b), dOut.on(b), sum.on(b), mean.on(b), rstd.on(b), w.on(b), p, key));
            String kernel = cols <= 1024 ? "layernorm_backward_dropout_residual_linear" : "layernorm_backward_dropout_residual";
            // the plain kernel's dX on the same GPU
            Tensor plain = tw.gpu.allocate(F32, rows, cols), pdW = tw.gpu.allocate(F32, cols), pdB = tw.gpu.allocate(F32, cols);
            tw.gpu.dropoutAddLayerNormBackward(plain, false, null, false, pdW, pdB, dOut.gpu(), sum.gpu(), mean.gpu(), rstd.gpu(),
                    w.gpu(), p, key);
            float[] f = tw.gpu.downloadFloat(plain), got = tw.gpu.downloadFloat(dX.gpu());
            for (int i = 0; i < f.length; i++) {
                float want = dXType == BF16 ? HalfFloats.roundToBf16(f[i]) : f[i];
                if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got[i])) {
                    fail(kernel + ": dX element " + i + " is " + got[i] + ", the plain kernel's " + (dXType == BF16 ? "rounded " : "") + want);
                }
            }
            // a partial per chunk of 32 rows, and the warps' partial sums inside each
            ColumnSums.assertWithinSummationBound(kernel + " dXBias", biasStart, f, rows, cols, (rows + 31) / 32 * 9,
                    tw.gpu.downloadFloat(dXBias.gpu()));
            tw.expectClose(kernel, dX, 1e-5, dXType == BF16 ? 0x1p-7 : 1e-4);
            tw.expectClose(kernel, dR, 1e-5, 1e-4);
            double sumTol = 1e-5 * Math.sqrt(rows);
            tw.expectClose(kernel + "+reduce_forward_columns", dW, sumTol, 1e-4);
            tw.expectClose(kernel + "+reduce_forward_columns", dB, sumTol, 1e-4);
            tw.expectClose(kernel + "+reduce_forward_columns", dXBias, sumTol, 1e-4);
            for (Tensor t : new Tensor[] {plain, pdW, pdB}) tw.gpu.free(t);
        }
    }

    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 1", "7, 7", "33, 33", "1000, 1000", "256, 256", "1024, 768"})
    void backwardAccumulatesLikeTheCpu(int rows, int cols) {
        try (Twins tw = new Twins(rows + 13L * cols)) {
            Twin in = tw.normal(3, rows, cols), w = tw.normal(1, cols), bias = tw.normal(1, cols), dOut = tw.normal(1, rows, cols);
            Twin out = tw.zeros(F32, rows, cols), mean = tw.zeros(F32, rows), rstd = tw.zeros(F32, rows);
            tw.both(b -> b.layerNormForward(out.on(b), mean.on(b), rstd.on(b), in.on(b), w.on(b), bias.on(b), 1e-5f));
            Twin dIn = tw.normal(1, rows, cols), dW = tw.normal(1, cols), dB = tw.normal(1, cols);
            tw.both(b -> b.layerNormBackward(dIn.on(b), dW.on(b), dB.on(b), dOut.on(b), in.on(b), mean.on(b), rstd.on(b), w.on(b)));
            tw.expectClose("layernorm_backward", dIn, 1e-5, 1e-4);
            double sumTol = 1e-5 * Math.sqrt(rows);
            tw.expectClose("layernorm_backward+reduce_forward_columns", dW, sumTol, 1e-4);
            tw.expectClose("layernorm_backward+reduce_forward_columns", dB, sumTol, 1e-4);
        }
    }

    /** What a dropout + residual + LayerNorm forward on both sides saved for its backward, and its weight. */
    private record Tail(Twin sum, Twin mean, Twin rstd, Twin weight) {
        static Tail forward(Twins tw, int rows, int cols, float p, RngKey key) {
            Twin x = tw.normal(1, rows, cols), res = tw.normal(2, rows, cols), w = tw.normal(1, cols), bias = tw.normal(1, cols);
            Twin out = tw.zeros(F32, rows, cols), sum = tw.zeros(F32, rows, cols);
            Twin mean = tw.zeros(F32, rows), rstd = tw.zeros(F32, rows);
            tw.both(b -> b.dropoutAddLayerNormForward(out.on(b), null, sum.on(b), mean.on(b), rstd.on(b), x.on(b), res.on(b),
                    w.on(b), bias.on(b), 1e-12f, p, key));
            return new Tail(sum, mean, rstd, w);
        }
    }
}
