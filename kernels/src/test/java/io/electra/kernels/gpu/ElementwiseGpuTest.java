package io.electra.kernels.gpu;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;

/** elementwise.cu against the CPU backend: odd sizes, ELECTRA-Small (C 256, FFN 1024) and Base (C 768, FFN 3072). */
@Tag("gpu")
class ElementwiseGpuTest {
    private static final double RTOL = 1e-5, ATOL = 1e-6;

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
}
