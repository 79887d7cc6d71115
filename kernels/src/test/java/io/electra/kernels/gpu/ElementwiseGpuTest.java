package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.BF16;
import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** elementwise.cu against the CPU backend: odd sizes, ELECTRA-Small (C 256, FFN 1024) and Base (C 768, FFN 3072). */
@Tag("gpu")
class ElementwiseGpuTest {
    private static final double RTOL = 1e-5, ATOL = 1e-6;
    /** One bf16 ulp, relative to the smaller of two neighbours: 2^-7 (8 significant bits). */
    private static final double BF16_ULP = 0x1p-7;

    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 1", "7, 7", "33, 33", "1000, 1000", "256, 256", "256, 1024", "1024, 768", "1024, 3072"})
    void forwardKernelsMatchTheCpu(int rows, int cols) {
        try (Twins tw = new Twins(rows * 31L + cols)) {
            Twin in = tw.normal(2, rows, cols), other = tw.normal(1, rows, cols), bias = tw.normal(1, cols);
            Twin out = tw.zeros(F32, rows, cols);
            tw.both(b -> b.biasAdd(out.on(b), in.on(b), bias.on(b)));
            tw.expectClose("elementwise_forward_bias", out, ATOL, RTOL);
            tw.both(b -> b.add(out.on(b), in.on(b), 0.75f, other.on(b), -1.5f));
            tw.expectClose("elementwise_forward_add", out, ATOL, RTOL);
            tw.both(b -> b.accumulate(out.on(b), in.on(b), 0.25f));
            tw.expectClose("elementwise_forward_add", out, ATOL, RTOL);
            tw.both(b -> b.scale(out.on(b), in.on(b), -3f));
            tw.expectClose("elementwise_forward_scale", out, ATOL, RTOL);
            tw.both(b -> b.geluForward(out.on(b), in.on(b)));
            tw.expectClose("elementwise_forward_gelu", out, ATOL, RTOL);
            Twin fused = tw.zeros(F32, rows, cols);
            tw.cpu.biasAdd(fused.cpu(), in.cpu(), bias.cpu());
            tw.cpu.geluForward(fused.cpu(), fused.cpu());
            tw.gpu.biasGeluForward(fused.gpu(), in.gpu(), bias.gpu());
            tw.expectClose("elementwise_forward_bias_gelu", fused, ATOL, RTOL);
        }
    }

    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 1", "7, 7", "33, 33", "1000, 1000", "256, 256", "1024, 768", "1024, 3072"})
    void backwardKernelsAccumulateLikeTheCpu(int rows, int cols) {
        try (Twins tw = new Twins(rows * 17L + cols)) {
            Twin in = tw.normal(2, rows, cols), dOut = tw.normal(1, rows, cols);
            Twin dIn = tw.normal(1, rows, cols);  // non-zero: backward must add, not overwrite
            tw.both(b -> b.geluBackward(dIn.on(b), dOut.on(b), in.on(b)));
            tw.expectClose("elementwise_backward_gelu", dIn, ATOL, RTOL);
            Twin dBias = tw.normal(1, cols);
            tw.both(b -> b.biasBackward(dBias.on(b), dOut.on(b)));
            // a column sum of `rows` terms: cancellation makes the absolute tolerance grow with sqrt(rows)
            tw.expectClose("elementwise_backward_bias+reduce_forward_columns", dBias, 1e-5 * Math.sqrt(rows), 1e-4);
        }
    }

    /**
     * A BF16 gradient's bias sums (the attention's gradient of the fused projection in mixed precision):
     * against the CPU on the same values, and bit for bit the F32 kernel's sums of the widened values.
     */
    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 1", "33, 33", "1000, 768", "1024, 3072"})
    void biasBackwardOfABf16GradientMatchesTheCpu(int rows, int cols) {
        try (Twins tw = new Twins(rows * 31L + cols)) {
            Twin dOut = tw.bf16Normal(1, rows, cols), dBias = tw.normal(1, cols);  // CPU side: the same values, F32
            float[] start = tw.gpu.downloadFloat(dBias.gpu());
            tw.both(b -> b.biasBackward(dBias.on(b), dOut.on(b)));
            tw.expectClose("elementwise_backward_bias_bf16+reduce_forward_columns", dBias, 1e-5 * Math.sqrt(rows), 1e-4);
            Tensor wide = tw.gpu.allocate(DType.F32, rows, cols), viaF32 = tw.gpu.allocate(DType.F32, cols);
            tw.gpu.copy(wide, dOut.gpu());
            tw.gpu.upload(viaF32, start);
            tw.gpu.biasBackward(viaF32, wide);
            assertArrayEquals(tw.gpu.downloadFloat(viaF32), tw.gpu.downloadFloat(dBias.gpu()),
                    "the bf16 kernel sums in the f32 kernel's order");
            tw.gpu.free(wide);
            tw.gpu.free(viaF32);
        }
    }

    /**
     * linearOutputGrad against the CPU, with and without GELU, into F32 and BF16, with and without dBias.
     * Without GELU g is dOut itself, so a BF16 gradOut is the same rounding of the same floats: identical.
     * With GELU the GPU's gelu' is f32 (erff, expf) and the CPU's double rounded once, a few f32 ulps apart,
     * which flips a bf16 rounding now and then: one bf16 ulp at most. The GPU's fused bf16 gradient is
     * then held, bit for bit, to the GPU's own unfused calls (GELU backward into zeros, copy to bf16).
     */
    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 1", "7, 7", "33, 33", "1000, 1000", "256, 256", "256, 1024", "1024, 768", "1024, 3072"})
    void linearOutputGradMatchesTheCpu(int rows, int cols) {
        try (Twins tw = new Twins(rows * 13L + cols)) {
            Twin dOut = tw.normal(1, rows, cols), pre = tw.normal(2, rows, cols);
            for (boolean gelu : new boolean[]{false, true}) {
                for (DType type : new DType[]{F32, BF16}) {
                    String kernel = type == BF16 ? "elementwise_backward_linear_grad_bf16" : "elementwise_backward_linear_grad_f32";
                    Twin out = tw.zeros(type, rows, cols), dBias = tw.normal(1, cols);  // dBias non-zero: it must add
                    tw.both(b -> b.fill(out.on(b), Double.NaN));  // gradOut is overwritten everywhere
                    tw.both(b -> b.linearOutputGrad(out.on(b), dBias.on(b), dOut.on(b), gelu ? pre.on(b) : null));
                    if (type == BF16 && !gelu) tw.expectIdentical(kernel, tw.cpu.downloadFloat(out.cpu()), tw.gpu.downloadFloat(out.gpu()));
                    else tw.expectClose(kernel, out, ATOL, type == BF16 ? BF16_ULP : RTOL);
                    tw.expectClose(kernel + "+reduce_forward_columns", dBias, 1e-5 * Math.sqrt(rows), 1e-4);
                    if (type == BF16 && gelu) {
                        Tensor alone = tw.gpu.allocateTemp(BF16, rows, cols);  // dBias null: the same gradient
                        tw.gpu.linearOutputGrad(alone, null, dOut.gpu(), pre.gpu());
                        Tensor g = tw.gpu.allocateTemp(F32, rows, cols), unfused = tw.gpu.allocateTemp(BF16, rows, cols);
                        tw.gpu.geluBackward(g, dOut.gpu(), pre.gpu());
                        tw.gpu.copy(unfused, g);
                        sameBitsButZeroSigns(kernel, tw.gpu.downloadFloat(unfused), tw.gpu.downloadFloat(out.gpu()));
                        sameBitsButZeroSigns(kernel, tw.gpu.downloadFloat(out.gpu()), tw.gpu.downloadFloat(alone));
                    }
                }
            }
        }
    }

    /** Equal bits, or both zeros: the fused kernel keeps a -0 product that adding into zeros made +0. */
    private static void sameBitsButZeroSigns(String kernel, float[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i]) && !(want[i] == 0f && got[i] == 0f)) {
                fail(kernel + ": element " + i + " is " + got[i] + " but the unfused calls on the GPU give " + want[i]);
            }
        }
    }
}
