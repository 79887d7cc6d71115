package io.electra.kernels.gpu;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;

/** softmax.cu against the CPU backend, including rows as long as the vocabulary. */
@Tag("gpu")
class SoftmaxGpuTest {
    @ParameterizedTest(name = "[{0}, {1}]")
    @CsvSource({"1, 1", "7, 7", "33, 33", "1000, 1000", "512, 128", "512, 512", "4, 30522"})
    void forwardAndBackwardMatchTheCpu(int rows, int cols) {
        try (Twins tw = new Twins(rows * 3L + cols)) {
            Twin in = tw.normal(4, rows, cols), out = tw.zeros(F32, rows, cols), dOut = tw.normal(1, rows, cols);
            tw.both(b -> b.softmaxForward(out.on(b), in.on(b)));
            tw.expectClose("softmax_forward", out, 1e-7, 1e-5);
            Twin dIn = tw.normal(1, rows, cols);
            tw.both(b -> b.softmaxBackward(dIn.on(b), dOut.on(b), out.on(b)));
            tw.expectClose("softmax_backward", dIn, 1e-6, 1e-4);
        }
    }
}
