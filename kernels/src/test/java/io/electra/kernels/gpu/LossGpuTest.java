package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.fail;

/** crossentropy.cu, bce.cu, mse.cu (and the reductions behind them) against the CPU backend. */
@Tag("gpu")
class LossGpuTest {
    @ParameterizedTest(name = "K {0} V {1}")
    @CsvSource({"1, 1", "7, 7", "33, 33", "1000, 1000", "77, 30522", "2458, 30522"})
    void crossEntropyMatchesTheCpu(int K, int V) {
        try (Twins tw = new Twins(K * 7L + V)) {
            int[] targets = new int[K];
            for (int k = 0; k < K; k++) targets[k] = k % 5 == 3 ? -100 : tw.random.nextInt(V);  // some ignored rows
            Twin logits = tw.normal(3, K, V), t = tw.ints(targets, K), loss = tw.zeros(F32, 1), lse = tw.zeros(F32, K);
            tw.both(b -> b.crossEntropyForward(loss.on(b), lse.on(b), logits.on(b), t.on(b)));
            tw.expectClose("crossentropy_forward", lse, 1e-6, 1e-5);
            tw.expectClose("crossentropy_forward+reduce_forward_count+reduce_forward_partial+reduce_forward_finalize", loss, 1e-6, 1e-5);
            Twin dLoss = tw.floats(new float[] {0.7f}, 1), dLogits = tw.normal(1, K, V);
            tw.both(b -> b.crossEntropyBackward(dLogits.on(b), dLoss.on(b), logits.on(b), lse.on(b), t.on(b)));
            tw.expectClose("crossentropy_backward", dLogits, 1e-6, 1e-5);
        }
    }

    /**
     * The backward for the logits' linear layer (crossentropy_backward_linear): dLogits is what the plain
     * kernel adds into zeros on the same GPU, to the bit (F32), or that rounded to nearest even (BF16);
     * dBias is the column sums of those f32 values within the f32 summation bound ({@link ColumnSums}),
     * and matches the CPU's; ignored rows get zeros, and nothing of the tensor's
     * previous contents survives.
     */
    @ParameterizedTest(name = "K {0} V {1} {2}")
    @CsvSource({"1, 1, F32", "7, 7, BF16", "33, 33, F32", "130, 1000, BF16", "77, 30522, BF16", "300, 257, F32"})
    void crossEntropyBackwardIntoALinearMatchesThePlainKernelAndTheCpu(int K, int V, DType type) {
        try (Twins tw = new Twins(K * 11L + V)) {
            int[] targets = new int[K];
            for (int k = 0; k < K; k++) targets[k] = k % 5 == 3 ? -100 : tw.random.nextInt(V);
            Twin logits = tw.normal(3, K, V), t = tw.ints(targets, K), loss = tw.zeros(F32, 1), lse = tw.zeros(F32, K);
            tw.both(b -> b.crossEntropyForward(loss.on(b), lse.on(b), logits.on(b), t.on(b)));
            Twin dLoss = tw.floats(new float[] {0.7f}, 1), dBias = tw.normal(1, V);
            float[] nan = new float[K * V];
            java.util.Arrays.fill(nan, Float.NaN);
            Twin dLogits = type == DType.BF16 ? tw.bf16(nan, K, V) : tw.floats(nan, K, V);
            float[] biasStart = tw.gpu.downloadFloat(dBias.gpu());
            tw.both(b -> b.crossEntropyBackwardToLinear(dLogits.on(b), dBias.on(b), dLoss.on(b), logits.on(b), lse.on(b), t.on(b)));
            Tensor plain = tw.gpu.allocate(F32, K, V);
            tw.gpu.crossEntropyBackward(plain, dLoss.gpu(), logits.gpu(), lse.gpu(), t.gpu());
            float[] f = tw.gpu.downloadFloat(plain), got = tw.gpu.downloadFloat(dLogits.gpu());
            for (int i = 0; i < f.length; i++) {
                float want = type == DType.BF16 ? HalfFloats.roundToBf16(f[i]) : f[i];
                if (!(want == got[i])) fail("crossentropy_backward_linear: element " + i + " is " + got[i] + ", the plain kernel's " + want);
            }
            ColumnSums.assertWithinSummationBound("crossentropy_backward_linear dBias", biasStart, f, K, V, 64,
                    tw.gpu.downloadFloat(dBias.gpu()));  // at most 64 chunk partials
            tw.expectClose("crossentropy_backward_linear", dLogits, 1e-6, type == DType.BF16 ? 0x1p-7 : 1e-5);
            tw.expectClose("crossentropy_backward_linear+reduce_forward_columns", dBias, 1e-6 * Math.sqrt(K), 1e-4);
            tw.gpu.free(plain);
        }
    }

    @ParameterizedTest(name = "N {0}")
    @CsvSource({"1", "7", "33", "1000", "16384", "65536"})
    void bceAndMseMatchTheCpu(int n) {
        try (Twins tw = new Twins(n)) {
            Twin x = tw.normal(4, n), y = tw.ints(0, 2, n), mask = tw.ints(0, 2, n), loss = tw.zeros(F32, 1);
            float[] yl = new float[n];
            int[] yi = tw.cpu.downloadInt(y.cpu());
            for (int i = 0; i < n; i++) yl[i] = yi[i];
            Twin lab = tw.floats(yl, n);
            tw.both(b -> b.bceWithLogitsForward(loss.on(b), x.on(b), lab.on(b), mask.on(b)));
            tw.expectClose("bce_forward+reduce_forward_count+reduce_forward_partial+reduce_forward_finalize", loss, 1e-6, 1e-5);
            Twin dLoss = tw.floats(new float[] {1.3f}, 1), dx = tw.normal(1, n);
            tw.both(b -> b.bceWithLogitsBackward(dx.on(b), dLoss.on(b), x.on(b), lab.on(b), mask.on(b)));
            tw.expectClose("bce_backward", dx, 1e-7, 1e-5);
            Twin target = tw.normal(1, n);
            tw.both(b -> b.mseForward(loss.on(b), x.on(b), target.on(b)));
            tw.expectClose("mse_forward+reduce_forward_partial+reduce_forward_finalize", loss, 1e-6, 1e-5);
            tw.both(b -> b.mseBackward(dx.on(b), dLoss.on(b), x.on(b), target.on(b)));
            tw.expectClose("mse_backward", dx, 1e-7, 1e-5);
        }
    }

    @Test
    void lossesWithNothingToCountAreZero() {
        try (Twins tw = new Twins(9)) {
            Twin logits = tw.normal(1, 3, 5), t = tw.ints(new int[] {-1, -1, -1}, 3), loss = tw.normal(1, 1), lse = tw.zeros(F32, 3);
            tw.both(b -> b.crossEntropyForward(loss.on(b), lse.on(b), logits.on(b), t.on(b)));
            tw.expectClose("crossentropy_forward", loss, 0, 0);
            Twin x = tw.normal(1, 4), y = tw.zeros(F32, 4), mask = tw.ints(new int[4], 4);
            tw.both(b -> b.bceWithLogitsForward(loss.on(b), x.on(b), y.on(b), mask.on(b)));
            tw.expectClose("bce_forward", loss, 0, 0);
        }
    }
}
