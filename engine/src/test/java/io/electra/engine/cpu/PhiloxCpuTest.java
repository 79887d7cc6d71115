package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.random.Philox;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The fast stream runs and the integer thresholds that dropout and Gumbel sampling compare against. */
class PhiloxCpuTest {
    private static final RngKey KEY = new RngKey(0x1234_5678_9abc_def0L, 3_000_000_123L, RngKey.DROPOUT_BASE + 11);

    @Test
    void runsAreTheReferenceStreamAtEveryAlignmentAndLength() {
        // starts inside a block, at a block, and where the block index crosses 2^32 mid-run
        long[] starts = {0, 1, 3, 6, 4 * ((1L << 32) - 5) + 2, (1L << 34) + 3};
        int[] lengths = {0, 1, 3, 7, 31, 32, 33, 64, 100, 1001};
        for (long start : starts) {
            for (int n : lengths) {
                int[] got = new int[n + 2];
                got[0] = 0x5a5a5a5a;
                got[n + 1] = 0x5a5a5a5a;
                PhiloxCpu.bits(KEY, start, got, 1, n);
                for (int k = 0; k < n; k++) {
                    int want = Philox.bits(KEY, start + k);
                    if (got[k + 1] != want) {
                        fail("start " + start + " n " + n + " element " + k + ": got " + Integer.toHexString(got[k + 1])
                                + ", reference " + Integer.toHexString(want));
                    }
                }
                assertEquals(0x5a5a5a5a, got[0], "wrote before the run");
                assertEquals(0x5a5a5a5a, got[n + 1], "wrote past the run");
            }
        }
    }

    @Test
    void keepLimitSplitsUniformsExactlyAtP() {
        for (float p : new float[]{0f, 1e-9f, 0.1f, 0.25f, 0.5f, 0x1.0p-24f, 1 - 0x1.0p-24f, 0.999f}) {
            int limit = DropoutCpu.keepLimit(p);
            for (int k = Math.max(0, limit - 3); k <= Math.min((1 << 24) - 1, limit + 3); k++) {
                boolean reference = Philox.uniform(k << 8) >= p;
                assertEquals(reference, k >= limit, "p " + p + ", k " + k + ", limit " + limit);
            }
        }
    }

    /** No element skipped by the limit could have beaten the best score, computed as the reference does. */
    @Test
    void gumbelSkipLimitIsConservativeAndUseful() {
        Random rnd = new Random(8);
        int useful = 0;
        for (int t = 0; t < 100_000; t++) {
            double scale = Math.pow(10, rnd.nextInt(7) - 2);
            double runMax = (rnd.nextDouble() * 2 - 1) * scale, best = runMax + (rnd.nextDouble() * 40 - 5) * Math.min(1, scale);
            int limit = SamplingCpu.skipLimit(runMax, best);
            if (limit < 0) continue;
            useful++;
            double u = Philox.uniform(Math.min(limit, (1 << 24) - 1) << 8) + 0x1.0p-25;
            double score = runMax - Math.log(-Math.log(u));
            assertTrue(score <= best, "runMax " + runMax + ", best " + best + ", limit " + limit + ": score " + score);
        }
        assertTrue(useful > 50_000, "the limit skipped nothing in " + (100_000 - useful) + " of 100000 cases");
        assertEquals(-1, SamplingCpu.skipLimit(0, Double.NEGATIVE_INFINITY), "no best yet");
        assertEquals(-1, SamplingCpu.skipLimit(Double.NaN, 1), "NaN logits");
        assertEquals(-1, SamplingCpu.skipLimit(Double.POSITIVE_INFINITY, 1), "infinite logits");
    }
}
