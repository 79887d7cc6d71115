package io.electra.glue;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MetricsTest {
    private static final double TOLERANCE = 1e-12;
    // TP = 2, FN = 1, FP = 1, TN = 1 (see ClassificationMetricsTest)
    private static final int[] GOLD = {1, 1, 1, 0, 0};
    private static final int[] PREDICTED = {1, 0, 1, 1, 0};

    @Test
    void colaReportsMatthewsOnly() {
        Map<String, Double> scores = Metrics.compute(GlueTask.COLA, PREDICTED, GOLD);
        assertEquals(List.of("mcc"), List.copyOf(scores.keySet()));
        assertEquals(1.0 / 6, scores.get("mcc"), TOLERANCE);
        assertEquals(1.0 / 6, Metrics.selection(GlueTask.COLA, scores), TOLERANCE);
    }

    @Test
    void mrpcAndQqpReportF1AccuracyAndTheirMean() {
        for (GlueTask task : List.of(GlueTask.MRPC, GlueTask.QQP)) {
            Map<String, Double> scores = Metrics.compute(task, PREDICTED, GOLD);
            assertEquals(List.of("f1", "accuracy", "combined"), List.copyOf(scores.keySet()), task.name());
            assertEquals(2.0 / 3, scores.get("f1"), TOLERANCE, task.name());
            assertEquals(0.6, scores.get("accuracy"), TOLERANCE, task.name());
            assertEquals((2.0 / 3 + 0.6) / 2, scores.get("combined"), TOLERANCE, task.name());
            assertEquals((2.0 / 3 + 0.6) / 2, Metrics.selection(task, scores), TOLERANCE, task.name());
        }
    }

    @Test
    void stsbReportsPearsonSpearmanAndTheirMean() {
        float[] predicted = {10, 20, 20, 30, 40};
        float[] gold = {1, 3, 2, 2, 5};
        Map<String, Double> scores = Metrics.compute(GlueTask.STSB, predicted, gold);
        assertEquals(List.of("pearson", "spearman", "combined"), List.copyOf(scores.keySet()));
        // centred predicted (-14,-4,-4,6,16), gold (-1.6,.4,-.6,-.6,2.4):
        // sum xy = 22.4 - 1.6 + 2.4 - 3.6 + 38.4 = 58, sum xx = 196+16+16+36+256 = 520,
        // sum yy = 2.56+.16+.36+.36+5.76 = 9.2
        double pearson = 58 / Math.sqrt(520 * 9.2);
        assertEquals(pearson, scores.get("pearson"), TOLERANCE);
        assertEquals(7.25 / 9.5, scores.get("spearman"), TOLERANCE);
        assertEquals((pearson + 7.25 / 9.5) / 2, scores.get("combined"), TOLERANCE);
    }

    @Test
    void threeWayTasksReportAccuracy() {
        int[] gold = {0, 1, 2, 2, 1, 0};
        int[] predicted = {0, 2, 2, 1, 1, 0};
        Map<String, Double> scores = Metrics.compute(GlueTask.MNLI, predicted, gold);
        assertEquals(Map.of("accuracy", 4.0 / 6), scores);
    }

    @Test
    void wrongKindOrRangeOfPredictionIsRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> Metrics.compute(GlueTask.STSB, new int[]{0, 1}, new int[]{0, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> Metrics.compute(GlueTask.RTE, new float[]{0, 1}, new float[]{0, 1}));
        // 2 is no class of a binary task, even for accuracy, which would otherwise just count it wrong
        assertThrows(IllegalArgumentException.class,
                () -> Metrics.compute(GlueTask.SST2, new int[]{0, 2}, new int[]{0, 1}));
    }
}
