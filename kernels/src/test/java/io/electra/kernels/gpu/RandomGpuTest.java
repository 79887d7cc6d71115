package io.electra.kernels.gpu;

import io.electra.engine.RngKey;
import io.electra.engine.random.Philox;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;
import static io.electra.engine.DType.I32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** philox.cuh bit for bit, dropout masks identical to the CPU's, Gumbel sampling and token replacement. */
@Tag("gpu")
class RandomGpuTest {
    private static final RngKey KEY = new RngKey(0x1234_5678_9abc_def0L, 3_000_000_123L, RngKey.DROPOUT_BASE + 11);

    @Test
    void philoxStreamIsBitIdenticalToTheJavaGenerator() {
        try (Twins tw = new Twins(1)) {
            long start = (1L << 34) + 3;  // block index above 2^32: exercises the high counter word
            var out = tw.gpu.allocate(I32, 1001);
            tw.gpu.philoxBits(out, start, KEY);
            int[] got = tw.gpu.downloadInt(out);
            for (int i = 0; i < got.length; i++) {
                int want = Philox.bits(KEY, start + i);
                if (want != got[i]) fail("Philox value " + (start + i) + ": GPU " + Integer.toHexString(got[i]) + ", Java " + Integer.toHexString(want));
            }
            tw.gpu.free(out);
            io.electra.kernels.gpu.Ledger.record("dropout_forward_bits", 0);
        }
    }

    @ParameterizedTest(name = "n {0} p {1}")
    @CsvSource({"1, 0.1", "7, 0.5", "33, 0.1", "1000, 0.9", "1000003, 0.1", "100, 0", "1000, 0.15"})
    void dropoutMasksAreIdenticalToTheCpu(int n, float p) {
        try (Twins tw = new Twins(n)) {
            Twin in = tw.uniform(0.5, 1.5, n), out = tw.zeros(F32, n);  // no zeros in the input: 0 out means dropped
            tw.both(b -> b.dropoutForward(out.on(b), in.on(b), p, KEY));
            float[] cpu = tw.cpu.downloadFloat(out.cpu()), gpu = tw.gpu.downloadFloat(out.gpu());
            for (int i = 0; i < n; i++) {
                if ((cpu[i] == 0) != (gpu[i] == 0)) fail("dropout mask differs at element " + i + ": CPU " + cpu[i] + ", GPU " + gpu[i]);
            }
            tw.expectIdentical("dropout_forward", cpu, gpu);  // same mask, same scale, one product: the same bits
            Twin dIn = tw.normal(1, n), dOut = tw.normal(1, n);
            tw.both(b -> b.dropoutBackward(dIn.on(b), dOut.on(b), p, KEY));
            tw.expectClose("dropout_backward", dIn, 1e-7, 1e-6);
        }
    }

    @ParameterizedTest(name = "K {0} V {1}")
    @CsvSource({"1, 1", "7, 7", "33, 33", "1000, 1000", "77, 30522"})
    void gumbelSamplesAgreeWithTheCpuUpToRoundingTies(int K, int V) {
        try (Twins tw = new Twins(K + V)) {
            Twin logits = tw.normal(2, K, V), out = tw.zeros(I32, K);
            RngKey key = KEY.withPurpose(RngKey.GUMBEL);
            tw.both(b -> b.gumbelSample(out.on(b), logits.on(b), key));
            int[] cpu = tw.cpu.downloadInt(out.cpu()), gpu = tw.gpu.downloadInt(out.gpu());
            float[] x = tw.cpu.downloadFloat(logits.cpu());
            int ties = 0;
            for (int k = 0; k < K; k++) {
                if (cpu[k] == gpu[k]) continue;
                // float logs on the GPU, double on the CPU: a different winner is allowed only in a near tie
                double sc = score(x, key, k, V, cpu[k]), sg = score(x, key, k, V, gpu[k]);
                assertTrue(Math.abs(sc - sg) <= 1e-5 * Math.max(1, Math.abs(sc)),
                        "row " + k + ": GPU chose " + gpu[k] + " (score " + sg + "), CPU " + cpu[k] + " (score " + sc + ")");
                ties++;
            }
            assertTrue(ties <= Math.max(1, K / 100), ties + " of " + K + " rows differ");
            io.electra.kernels.gpu.Ledger.record("sampling_forward_gumbel", ties / (double) K);
        }
    }

    private static double score(float[] x, RngKey key, int k, int V, int v) {
        double u = Philox.uniform(Philox.bits(key, (long) k * V + v)) + 0x1.0p-25;
        return x[k * V + v] - Math.log(-Math.log(u));
    }

    @Test
    void replaceTokensMatchesTheCpu() {
        try (Twins tw = new Twins(3)) {
            int n = 1000, k = 150;
            int[] positions = new int[k];
            // distinct, as masked positions are; every fifth slot dead (-1), as Masking marks dead and duplicate slots
            for (int i = 0; i < k; i++) positions[i] = i % 5 == 4 ? -1 : i * 6 + 1;
            Twin input = tw.ints(0, 50, n), pos = tw.ints(positions, k), sampled = tw.ints(0, 50, k);
            Twin disc = tw.zeros(I32, n), labels = tw.zeros(F32, n);
            tw.both(b -> b.replaceTokens(disc.on(b), labels.on(b), input.on(b), pos.on(b), sampled.on(b)));
            tw.expectSameInts("sampling_forward_replace", disc);
            tw.expectClose("sampling_forward_labels", labels, 0, 0);
        }
    }
}
