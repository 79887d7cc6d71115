package io.electra.glue;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class CorrelationTest {
    private static final double TOLERANCE = 1e-12;

    @Test
    void pearsonMatchesHandComputation() {
        // means 3 and 4; centred x = (-2,-1,0,1,2), y = (-2,0,1,0,1);
        // sum xy = 6, sum xx = 10, sum yy = 6: r = 6 / sqrt(60)
        float[] x = {1, 2, 3, 4, 5};
        float[] y = {2, 4, 5, 4, 5};
        assertEquals(6 / Math.sqrt(60), Correlation.pearson(x, y), TOLERANCE);
    }

    @Test
    void pearsonIsPlusOrMinusOneOnALine() {
        float[] x = {0.5f, 1, 3, -2, 7};
        float[] up = new float[x.length];
        float[] down = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            up[i] = 4 * x[i] - 1;
            down[i] = 10 - 2 * x[i];
        }
        assertEquals(1.0, Correlation.pearson(x, up), 1e-7);
        assertEquals(-1.0, Correlation.pearson(x, down), 1e-7);
    }

    @Test
    void pearsonIgnoresALargeCommonOffset() {
        // 10000 + small integers is exact in float; a one-pass formula would cancel catastrophically
        float[] x = {10001, 10002, 10003, 10004, 10005};
        float[] y = {2, 4, 5, 4, 5};
        assertEquals(6 / Math.sqrt(60), Correlation.pearson(x, y), TOLERANCE);
    }

    @Test
    void averageRanksShareTiedPositions() {
        assertRanks(new double[]{1, 2.5, 2.5, 4}, Correlation.averageRanks(new double[]{10, 20, 20, 30}));
        assertRanks(new double[]{2, 2, 2}, Correlation.averageRanks(new double[]{7, 7, 7}));
        // sorted: 0.5 (idx 3) -> 1; 2, 2, 2 (idx 0, 2, 4) -> ranks 2..4, mean 3; 9 (idx 1) -> 5
        assertRanks(new double[]{3, 5, 3, 1, 3}, Correlation.averageRanks(new double[]{2, 9, 2, 0.5, 2}));
    }

    @Test
    void spearmanWithTiesMatchesHandComputation() {
        // ranks x = (1, 2.5, 2.5, 4, 5), ranks y = (1, 4, 2.5, 2.5, 5), both with mean 3;
        // centred x = (-2, -.5, -.5, 1, 2), y = (-2, 1, -.5, -.5, 2);
        // sum xy = 4 - .5 + .25 - .5 + 4 = 7.25, sum xx = sum yy = 9.5: rho = 7.25 / 9.5
        float[] x = {10, 20, 20, 30, 40};
        float[] y = {1, 3, 2, 2, 5};
        assertEquals(7.25 / 9.5, Correlation.spearman(x, y), TOLERANCE);
    }

    @Test
    void spearmanIsOneForAnyIncreasingFunction() {
        float[] x = {0.1f, 2, -3, 4, 1.5f, 0};
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) Math.exp(3 * x[i]);
        assertEquals(1.0, Correlation.spearman(x, y), TOLERANCE);
        assertTrue(Correlation.pearson(x, y) < 0.9, "pearson of an exponential should be well below 1");
    }

    @Test
    void constantInputCorrelatesZero() {
        // 0.1f three times: its double mean is not exactly 0.1f, so this needs an explicit test
        float[] constant = {0.1f, 0.1f, 0.1f};
        float[] varying = {1, 2, 4};
        assertEquals(0.0, Correlation.pearson(constant, varying));
        assertEquals(0.0, Correlation.pearson(varying, constant));
        assertEquals(0.0, Correlation.spearman(constant, varying));
    }

    @Test
    void nonFiniteOrMismatchedInputIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Correlation.pearson(new float[]{1, Float.NaN}, new float[]{1, 2}));
        assertTrue(e.getMessage().contains("x[1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Correlation.spearman(new float[]{1, 2}, new float[]{1}));
        assertThrows(IllegalArgumentException.class, () -> Correlation.pearson(new float[0], new float[0]));
    }

    private static void assertRanks(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) fail("rank " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }
}
