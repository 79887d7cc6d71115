package io.electra.model;

import io.electra.engine.RngKey;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official masking procedure, checked by its counting rule and by statistics over many draws. */
class MaskingTest {
    static final int CLS = 101, SEP = 102, MASK = 103, PAD = 0, V = 30522;

    /** [CLS] w.. [SEP] w.. [SEP] [PAD]..: {@code real} real tokens of {@code seq}, ids in [1000, 2000). */
    static int[] row(int seq, int real, int salt, int[] mask) {
        int[] ids = new int[seq];
        for (int t = 0; t < real; t++) {
            ids[t] = t == 0 ? CLS : (t == real / 2 || t == real - 1) ? SEP : 1000 + (t * 37 + salt) % 1000;
            mask[t] = 1;
        }
        return ids;
    }

    @Test
    void liveSlotCountFollowsTheOfficialFormula() {
        int seq = 128, n = Masking.defaultMaxPredictions(0.15, seq);
        assertEquals(19, n, "int((0.15 + 0.005) * 128)");
        Masking m = new Masking(n, 0.15, CLS, SEP, MASK, PAD, V, Masking.Style.ELECTRA);
        for (int real : new int[]{3, 4, 10, 50, 100, 128}) {
            // [CLS] [SEP] [SEP] has nothing to mask: no live slot (the official code would sample from all-zero odds)
            int[] mask = new int[seq];
            int[] ids = row(seq, real, 0, mask);
            Masking.Batch b = m.apply(ids, mask, 1, seq, new RngKey(1, real, RngKey.MASKING));
            long live = java.util.Arrays.stream(b.targets()).filter(t -> t >= 0).count();
            long expected = real == 3 ? 0 : Math.max(1, Math.min(n, Math.round(real * 0.15)));
            assertEquals(expected, live, "live slots for " + real + " real tokens");
        }
    }

    @Test
    void specialTokensAndPaddingAreNeverChosenAndChoiceIsUniform() {
        int seq = 32, real = 24, draws = 4000;
        Masking m = new Masking(5, 0.15, CLS, SEP, MASK, PAD, V, Masking.Style.ELECTRA);
        int[] mask = new int[seq];
        int[] ids = row(seq, real, 3, mask);
        ids[5] = MASK; // a literal [MASK] in the text is not a candidate either
        int[] counts = new int[seq];
        for (int d = 0; d < draws; d++) {
            Masking.Batch b = m.apply(ids, mask, 1, seq, new RngKey(7, d, RngKey.MASKING));
            for (int k = 0; k < b.rows().length; k++) {
                if (b.targets()[k] < 0) continue;
                int t = b.rows()[k];
                assertTrue(mask[t] == 1, "padding position " + t + " chosen");
                int id = ids[t];
                assertFalse(id == CLS || id == SEP || id == MASK || id == PAD, "special id " + id + " chosen at " + t);
                assertEquals(ids[t], b.targets()[k], "target is the original id");
                counts[t]++;
            }
        }
        // chi-square of the candidate counts against uniform: 19 candidates, 18 degrees of freedom
        int candidates = 0;
        long total = 0;
        for (int t = 0; t < seq; t++) if (counts[t] > 0) { candidates++; total += counts[t]; }
        assertEquals(real - 4, candidates, "every candidate (real tokens minus [CLS], 2 [SEP], [MASK]) is drawn");
        double expected = (double) total / candidates, chi2 = 0;
        for (int t = 0; t < seq; t++) if (counts[t] > 0) chi2 += Math.pow(counts[t] - expected, 2) / expected;
        assertTrue(chi2 < 42.3, "chi-square " + chi2 + " over the 0.001 critical value 42.3 (df 19)");
    }

    @Test
    void electraMasksEightyFivePercentAndNeverSubstitutesRandomTokens() {
        int seq = 128, batch = 8, draws = 200;
        Masking m = new Masking(19, 0.15, CLS, SEP, MASK, PAD, V, Masking.Style.ELECTRA);
        int[] mask = new int[batch * seq];
        int[] ids = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            int[] rm = new int[seq];
            System.arraycopy(row(seq, seq, b, rm), 0, ids, b * seq, seq);
            System.arraycopy(rm, 0, mask, b * seq, seq);
        }
        long chosen = 0, masked = 0;
        for (int d = 0; d < draws; d++) {
            Masking.Batch r = m.apply(ids, mask, batch, seq, new RngKey(3, d, RngKey.MASKING));
            for (int k = 0; k < r.rows().length; k++) {
                if (r.replaceAt()[k] < 0) continue; // count each position once
                int t = r.rows()[k];
                chosen++;
                if (r.maskedIds()[t] == MASK) masked++;
                else assertEquals(ids[t], r.maskedIds()[t], "a chosen position is [MASK] or its original, never random");
            }
            for (int i = 0; i < ids.length; i++) {
                if (r.maskedIds()[i] != ids[i]) assertEquals(MASK, r.maskedIds()[i]);
            }
        }
        // duplicates (a position drawn twice) are masked with 1 - 0.15^2; they are rare at 19 of 125
        double p = masked / (double) chosen;
        double sd = Math.sqrt(0.85 * 0.15 / chosen);
        assertTrue(Math.abs(p - 0.855) < 5 * sd + 0.01, "masked fraction " + p + " of " + chosen);
    }

    @Test
    void bertStyleSplitsEightyTenTen() {
        int seq = 128, draws = 600;
        Masking m = new Masking(19, 0.15, CLS, SEP, MASK, PAD, V, Masking.Style.BERT);
        int[] mask = new int[seq];
        int[] ids = row(seq, seq, 0, mask);
        long chosen = 0, masked = 0, kept = 0, random = 0;
        for (int d = 0; d < draws; d++) {
            Masking.Batch r = m.apply(ids, mask, 1, seq, new RngKey(5, d, RngKey.MASKING));
            for (int k = 0; k < r.rows().length; k++) {
                if (r.replaceAt()[k] < 0) continue;
                int t = r.rows()[k];
                chosen++;
                if (r.maskedIds()[t] == MASK) masked++;
                else if (r.maskedIds()[t] == ids[t]) kept++;
                else random++;
            }
        }
        assertEquals(0.80, masked / (double) chosen, 0.03);
        assertEquals(0.10, random / (double) chosen, 0.02);
        assertEquals(0.10, kept / (double) chosen, 0.02);
    }

    @Test
    void sameKeySameMasksOtherStepOtherMasks() {
        int seq = 64;
        Masking m = new Masking(10, 0.15, CLS, SEP, MASK, PAD, V, Masking.Style.ELECTRA);
        int[] mask = new int[seq];
        int[] ids = row(seq, seq, 1, mask);
        Masking.Batch a = m.apply(ids, mask, 1, seq, new RngKey(9, 4, RngKey.MASKING));
        Masking.Batch b = m.apply(ids, mask, 1, seq, new RngKey(9, 4, RngKey.MASKING));
        Masking.Batch c = m.apply(ids, mask, 1, seq, new RngKey(9, 5, RngKey.MASKING));
        assertArrayEquals(a.maskedIds(), b.maskedIds());
        assertArrayEquals(a.rows(), b.rows());
        assertFalse(java.util.Arrays.equals(a.rows(), c.rows()), "the next step draws other positions");
    }
}
