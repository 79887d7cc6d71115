package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.random.Philox;
import io.electra.engine.testing.Approx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dropout and Gumbel sampling: reproducible from (seed, step, purpose), and statistically right. */
class RandomKernelsTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    private static float[] dropout(int n, float p, RngKey key) {
        Tensor in = cpu.allocate(DType.F32, n), out = cpu.allocate(DType.F32, n);
        cpu.fill(in, 1);
        cpu.dropoutForward(out, in, p, key);
        return cpu.downloadFloat(out);
    }

    @Test
    void dropoutMaskIsTheDocumentedPhiloxStream() {
        RngKey key = new RngKey(1234, 17, RngKey.DROPOUT_BASE + 3);
        float p = 0.25f;
        float[] out = dropout(10_001, p, key);
        for (int i = 0; i < out.length; i++) {
            boolean keep = Philox.uniform(Philox.bits(key, i)) >= p;
            assertEquals(keep ? 1 / (1 - p) : 0f, out[i], 1e-6f, "element " + i);
        }
    }

    @Test
    void dropoutMaskRepeatsForTheSameKeyAndDiffersAcrossStepsAndPurposes() {
        RngKey key = new RngKey(99, 5, RngKey.DROPOUT_BASE);
        float[] first = dropout(4096, 0.1f, key);
        assertArrayEquals(first, dropout(4096, 0.1f, new RngKey(99, 5, RngKey.DROPOUT_BASE)));
        assertFalse(Arrays.equals(first, dropout(4096, 0.1f, new RngKey(99, 6, RngKey.DROPOUT_BASE))), "next step");
        assertFalse(Arrays.equals(first, dropout(4096, 0.1f, key.withPurpose(RngKey.DROPOUT_BASE + 1))), "next layer");
        assertFalse(Arrays.equals(first, dropout(4096, 0.1f, new RngKey(100, 5, RngKey.DROPOUT_BASE))), "other seed");
    }

    @Test
    void dropoutKeepsAFractionOneMinusPAndPreservesTheMean() {
        int n = 200_000;
        for (float p : new float[]{0.1f, 0.5f}) {
            float[] out = dropout(n, p, new RngKey(7, 1, RngKey.DROPOUT_BASE));
            long kept = 0;
            double sum = 0;
            for (float v : out) {
                if (v != 0) kept++;
                sum += v;
            }
            double rate = (double) kept / n, sigma = Math.sqrt(p * (1 - p) / n);
            assertTrue(Math.abs(rate - (1 - p)) < 5 * sigma, "p=" + p + ": keep rate " + rate + ", sigma " + sigma);
            assertEquals(1.0, sum / n, 5 * sigma / (1 - p) + 1e-6, "p=" + p + ": mean after inverted scaling");
        }
    }

    @Test
    void attentionDropoutUsesElementIndexOfTheProbabilityMatrix() {
        // B=1, H=2, T=3, D=1 with all keys open and q = 0: P = 1/3 everywhere, so
        // out[h,i] = sum_j (1/3) keep(((0*2 + h)*3 + i)*3 + j) / (1-p) * v[h,j].
        int heads = 2, seq = 3;
        float p = 0.5f;
        RngKey key = new RngKey(11, 2, RngKey.DROPOUT_BASE + 4);
        Tensor q = cpu.allocate(DType.F64, 1, heads, seq, 1), k = cpu.allocate(DType.F64, 1, heads, seq, 1);
        Tensor v = cpu.allocate(DType.F64, 1, heads, seq, 1), mask = cpu.allocate(DType.I32, 1, seq);
        double[] vs = {1, 10, 100, 2, 20, 200};
        cpu.upload(v, vs);
        cpu.fill(mask, 1);
        Tensor out = cpu.allocate(DType.F64, 1, heads, seq, 1), saved = cpu.allocate(DType.F64, 1, heads, seq, seq);
        cpu.attentionForward(out, saved, q, k, v, mask, 1f, p, key);
        double[] expected = new double[heads * seq];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < seq; i++) {
                for (int j = 0; j < seq; j++) {
                    long index = ((long) h * seq + i) * seq + j;
                    boolean keep = Philox.uniform(Philox.bits(key, index)) >= p;
                    if (keep) expected[h * seq + i] += (1.0 / 3) / (1 - p) * vs[h * seq + j];
                }
            }
        }
        Approx.assertClose("attention dropout", expected, cpu.downloadDouble(out), 1e-12, 1e-12);
        double[] probs = cpu.downloadDouble(saved);
        for (int i = 0; i < probs.length; i++) assertEquals(1.0 / 3, probs[i], 1e-15, "saved P is before dropout, element " + i);
    }

    /**
     * Gumbel-max draws from softmax(logits). 40000 rows of the same 5 logits give 40000
     * independent draws (each row reads other stream elements); Pearson's chi-square against the
     * softmax frequencies, 4 degrees of freedom, must stay below 18.47 (the 0.1% critical value).
     */
    @Test
    void gumbelSampleFrequenciesMatchSoftmax() {
        double[] logits = {0.0, 1.0, -1.0, 2.0, 0.5};
        int vocab = logits.length, rows = 40_000;
        for (DType dtype : new DType[]{DType.F32, DType.F64}) {
            Tensor x = cpu.allocate(dtype, rows, vocab);
            double[] all = new double[rows * vocab];
            for (int r = 0; r < rows; r++) System.arraycopy(logits, 0, all, r * vocab, vocab);
            cpu.upload(x, all);
            Tensor out = cpu.allocate(DType.I32, rows);
            cpu.gumbelSample(out, x, new RngKey(2024, 9, RngKey.GUMBEL));
            long[] counts = new long[vocab];
            for (int s : cpu.downloadInt(out)) counts[s]++;
            double z = 0;
            for (double l : logits) z += Math.exp(l);
            double chi2 = 0;
            for (int v = 0; v < vocab; v++) {
                double expected = rows * Math.exp(logits[v]) / z;
                chi2 += (counts[v] - expected) * (counts[v] - expected) / expected;
            }
            assertTrue(chi2 < 18.47, dtype + ": chi-square " + chi2 + " for counts " + Arrays.toString(counts));
        }
    }

    @Test
    void gumbelSampleIsTheDocumentedArgmaxAndRepeatsPerKey() {
        int rows = 3, vocab = 7;
        Tensor x = cpu.allocate(DType.F32, rows, vocab);
        double[] lv = new double[rows * vocab];
        for (int i = 0; i < lv.length; i++) lv[i] = Math.sin(i);
        cpu.upload(x, lv);
        RngKey key = new RngKey(5, 6, RngKey.GUMBEL);
        Tensor out = cpu.allocate(DType.I32, rows);
        cpu.gumbelSample(out, x, key);
        float[] logits = cpu.downloadFloat(x);
        for (int r = 0; r < rows; r++) {
            int best = -1;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                double u = Philox.uniform(Philox.bits(key, (long) r * vocab + v)) + 0x1.0p-25;
                double score = logits[r * vocab + v] - Math.log(-Math.log(u));
                if (score > bestScore) {
                    bestScore = score;
                    best = v;
                }
            }
            assertEquals(best, cpu.downloadInt(out)[r], "row " + r);
        }
    }

    /**
     * Rows long enough for the skip test to matter (flat, peaked, widely spread logits, some -inf and
     * a NaN) pick exactly the element a plain scan over every score picks.
     */
    @Test
    void gumbelSampleOnWideRowsIsTheDocumentedArgmax() {
        int rows = 6, vocab = 5003;
        double[] lv = new double[rows * vocab];
        java.util.Random rnd = new java.util.Random(31);
        for (int v = 0; v < vocab; v++) {
            lv[v] = 0.01 * rnd.nextGaussian();                              // flat
            lv[vocab + v] = v == 4000 ? 12 : rnd.nextGaussian();             // one dominant token
            lv[2 * vocab + v] = 8 * rnd.nextGaussian();                      // spread like a trained LM
            lv[3 * vocab + v] = v % 7 == 0 ? Double.NEGATIVE_INFINITY : rnd.nextGaussian();
            lv[4 * vocab + v] = 1e4 + rnd.nextGaussian();                    // large offset
            lv[5 * vocab + v] = v == 17 ? Double.NaN : rnd.nextGaussian();
        }
        for (DType dtype : new DType[]{DType.F32, DType.F64}) {
            Tensor x = cpu.allocate(dtype, rows, vocab);
            cpu.upload(x, lv);
            RngKey key = new RngKey(77, 3, RngKey.GUMBEL);
            Tensor out = cpu.allocate(DType.I32, rows);
            cpu.gumbelSample(out, x, key);
            double[] logits = cpu.downloadDouble(x);
            for (int r = 0; r < rows; r++) {
                int best = 0;
                double bestScore = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) {
                    double u = Philox.uniform(Philox.bits(key, (long) r * vocab + v)) + 0x1.0p-25;
                    double score = logits[r * vocab + v] - Math.log(-Math.log(u));
                    if (score > bestScore) {
                        bestScore = score;
                        best = v;
                    }
                }
                assertEquals(best, cpu.downloadInt(out)[r], dtype + " row " + r);
            }
        }
    }
}
