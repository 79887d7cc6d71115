package io.electra.glue;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassificationMetricsTest {
    private static final double TOLERANCE = 1e-12;

    // index:              0  1  2  3  4
    // gold:               1  1  1  0  0
    // predicted:          1  0  1  1  0
    // TP = {0, 2}, FN = {1}, FP = {3}, TN = {4}
    private static final int[] GOLD = {1, 1, 1, 0, 0};
    private static final int[] PREDICTED = {1, 0, 1, 1, 0};

    @Test
    void accuracyCountsEqualPairs() {
        assertEquals(3.0 / 5, ClassificationMetrics.accuracy(PREDICTED, GOLD), TOLERANCE);
    }

    @Test
    void f1IsHarmonicMeanOfPrecisionAndRecall() {
        // precision = TP/(TP+FP) = 2/3, recall = TP/(TP+FN) = 2/3, harmonic mean 2/3
        assertEquals(2.0 / 3, ClassificationMetrics.f1(PREDICTED, GOLD, 1), TOLERANCE);
        // of class 0: TP = {4}, FP = {1}, FN = {3}: precision 1/2, recall 1/2
        assertEquals(0.5, ClassificationMetrics.f1(PREDICTED, GOLD, 0), TOLERANCE);
    }

    @Test
    void f1WithUnequalPrecisionAndRecall() {
        // gold 1 1 1 1 0 0, predicted 1 0 0 0 0 0: precision 1, recall 1/4, F1 = 2*1*0.25/1.25 = 0.4
        assertEquals(0.4, ClassificationMetrics.f1(new int[]{1, 0, 0, 0, 0, 0}, new int[]{1, 1, 1, 1, 0, 0}, 1),
                TOLERANCE);
    }

    @Test
    void f1IsZeroWithoutPositivePredictions() {
        assertEquals(0.0, ClassificationMetrics.f1(new int[]{0, 0, 0}, new int[]{1, 0, 1}, 1));
        // nothing positive anywhere: precision and recall are both 0/0; scikit-learn answers 0
        assertEquals(0.0, ClassificationMetrics.f1(new int[]{0, 0}, new int[]{0, 0}, 1));
    }

    @Test
    void matthewsMatchesConfusionMatrixFormula() {
        // TP = 2, TN = 1, FP = 1, FN = 1: (2*1 - 1*1) / sqrt(3 * 3 * 2 * 2) = 1/6
        assertEquals(1.0 / 6, ClassificationMetrics.matthews(PREDICTED, GOLD, 2), TOLERANCE);

        // TP = 6, TN = 3, FP = 1, FN = 2: (18 - 2) / sqrt((6+1)(6+2)(3+1)(3+2)) = 16 / sqrt(1120)
        int[] gold = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
        int[] predicted = {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1};
        assertEquals(16 / Math.sqrt(1120), ClassificationMetrics.matthews(predicted, gold, 2), TOLERANCE);
    }

    @Test
    void matthewsOfTwoClassesIsPearsonOfTheIndicators() {
        int[] gold = {1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1};
        int[] predicted = {1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1};
        assertEquals(Correlation.pearson(floats(predicted), floats(gold)),
                ClassificationMetrics.matthews(predicted, gold, 2), TOLERANCE);
    }

    @Test
    void matthewsIsOneForPerfectAndMinusOneForInvertedPredictions() {
        assertEquals(1.0, ClassificationMetrics.matthews(GOLD, GOLD, 2), TOLERANCE);
        int[] inverted = {0, 0, 0, 1, 1};
        assertEquals(-1.0, ClassificationMetrics.matthews(inverted, GOLD, 2), TOLERANCE);
    }

    @Test
    void matthewsIsZeroForConstantPredictionsOrLabels() {
        assertEquals(0.0, ClassificationMetrics.matthews(new int[]{1, 1, 1, 1}, new int[]{1, 0, 1, 0}, 2));
        assertEquals(0.0, ClassificationMetrics.matthews(new int[]{0, 0, 0, 0}, new int[]{1, 0, 1, 0}, 2));
        assertEquals(0.0, ClassificationMetrics.matthews(new int[]{1, 0, 1, 0}, new int[]{0, 0, 0, 0}, 2));
        assertEquals(0.0, ClassificationMetrics.matthews(new int[]{1, 1}, new int[]{1, 1}, 2));
    }

    @Test
    void matthewsOfManyClassesIsCorrelationOfOneHotMatrices() {
        // gold counts t = (2, 2, 2), predicted counts p = (2, 3, 1), 4 correct of 6:
        // (4*6 - p.t) / sqrt((36 - p.p)(36 - t.t)) = (24 - 12) / sqrt(22 * 24)
        int[] gold = {0, 0, 1, 1, 2, 2};
        int[] predicted = {0, 1, 1, 1, 2, 0};
        assertEquals(12 / Math.sqrt(22 * 24), ClassificationMetrics.matthews(predicted, gold, 3), TOLERANCE);
        assertEquals(oneHotCorrelation(predicted, gold, 3), ClassificationMetrics.matthews(predicted, gold, 3),
                TOLERANCE);
    }

    @Test
    void mismatchedOrOutOfRangeInputsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> ClassificationMetrics.accuracy(new int[2], new int[3]));
        assertThrows(IllegalArgumentException.class, () -> ClassificationMetrics.accuracy(new int[0], new int[0]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClassificationMetrics.matthews(new int[]{0, 2}, new int[]{0, 1}, 2));
        assertTrue(e.getMessage().contains("predicted[1] = 2"), e.getMessage());
    }

    /**
     * Covariance of one-hot matrices X (predicted) and Y (gold), summed over classes, normalised:
     * the definition of the multi-class MCC, computed here without the confusion-matrix shortcut.
     */
    private static double oneHotCorrelation(int[] predicted, int[] gold, int classes) {
        int n = gold.length;
        double cxy = 0;
        double cxx = 0;
        double cyy = 0;
        for (int k = 0; k < classes; k++) {
            double meanX = 0;
            double meanY = 0;
            for (int i = 0; i < n; i++) {
                meanX += predicted[i] == k ? 1 : 0;
                meanY += gold[i] == k ? 1 : 0;
            }
            meanX /= n;
            meanY /= n;
            for (int i = 0; i < n; i++) {
                double x = (predicted[i] == k ? 1 : 0) - meanX;
                double y = (gold[i] == k ? 1 : 0) - meanY;
                cxy += x * y;
                cxx += x * x;
                cyy += y * y;
            }
        }
        return cxy / Math.sqrt(cxx * cyy);
    }

    private static float[] floats(int[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }
}
