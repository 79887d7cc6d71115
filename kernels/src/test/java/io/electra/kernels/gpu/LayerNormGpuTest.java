package io.electra.kernels.gpu;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;

/** layernorm.cu against the CPU backend (two-pass variance there, fp32 warp reductions here). */
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

    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"7, 7", "33, 33", "256, 256", "1024, 768"})
    void residualVariantEqualsAddThenLayerNorm(int rows, int cols) {
        try (Twins tw = new Twins(rows + 11L * cols)) {
            Twin a = tw.normal(1, rows, cols), c = tw.normal(1, rows, cols), w = tw.normal(1, cols), bias = tw.normal(1, cols);
            Twin out = tw.zeros(F32, rows, cols), res = tw.zeros(F32, rows, cols);
            Twin mean = tw.zeros(F32, rows), rstd = tw.zeros(F32, rows);
            tw.cpu.add(res.cpu(), a.cpu(), 1f, c.cpu(), 1f);
            tw.cpu.layerNormForward(out.cpu(), mean.cpu(), rstd.cpu(), res.cpu(), w.cpu(), bias.cpu(), 1e-12f);
            tw.gpu.residualLayerNormForward(out.gpu(), res.gpu(), mean.gpu(), rstd.gpu(), a.gpu(), c.gpu(), w.gpu(), bias.gpu(), 1e-12f);
            tw.expectClose("layernorm_forward_residual", res, 1e-6, 1e-5);
            tw.expectClose("layernorm_forward_residual", out, 1e-5, 1e-4);
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
}
