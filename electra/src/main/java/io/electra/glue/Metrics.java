package io.electra.glue;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A task's GLUE scores for a set of predictions, keyed by {@link GlueMetric#key()} in the order of
 * {@link GlueTask#metrics()}: {@code {mcc}} for CoLA, {@code {f1, accuracy, combined}} for MRPC and
 * QQP, {@code {pearson, spearman, combined}} for STS-B, {@code {accuracy}} otherwise.
 */
public final class Metrics {
    /** F1 is of label "1": a paraphrase (MRPC) or a duplicate (QQP). */
    private static final int POSITIVE = 1;

    private Metrics() {
    }

    /** Scores predicted class indexes of a classification task against the gold indexes. */
    public static Map<String, Double> compute(GlueTask task, int[] predicted, int[] gold) {
        if (task.isRegression()) {
            throw new IllegalArgumentException(task.cliName() + " is scored on float predictions, not classes");
        }
        ClassificationMetrics.checkLengths(predicted, gold);
        ClassificationMetrics.checkClasses("predicted", predicted, task.numOutputs());
        ClassificationMetrics.checkClasses("gold", gold, task.numOutputs());
        Map<String, Double> out = new LinkedHashMap<>();
        for (GlueMetric metric : task.metrics()) {
            double value = switch (metric) {
                case MCC -> ClassificationMetrics.matthews(predicted, gold, task.numOutputs());
                case ACCURACY -> ClassificationMetrics.accuracy(predicted, gold);
                case F1 -> ClassificationMetrics.f1(predicted, gold, POSITIVE);
                case COMBINED -> (out.get(GlueMetric.F1.key()) + out.get(GlueMetric.ACCURACY.key())) / 2;
                case PEARSON, SPEARMAN -> throw new IllegalStateException(metric + " listed for " + task);
            };
            out.put(metric.key(), value);
        }
        return Collections.unmodifiableMap(out);
    }

    /** Scores predicted STS-B similarities against the gold scores. */
    public static Map<String, Double> compute(GlueTask task, float[] predicted, float[] gold) {
        if (!task.isRegression()) {
            throw new IllegalArgumentException(task.cliName() + " is scored on class predictions, not floats");
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (GlueMetric metric : task.metrics()) {
            double value = switch (metric) {
                case PEARSON -> Correlation.pearson(predicted, gold);
                case SPEARMAN -> Correlation.spearman(predicted, gold);
                case COMBINED -> (out.get(GlueMetric.PEARSON.key()) + out.get(GlueMetric.SPEARMAN.key())) / 2;
                case MCC, ACCURACY, F1 -> throw new IllegalStateException(metric + " listed for " + task);
            };
            out.put(metric.key(), value);
        }
        return Collections.unmodifiableMap(out);
    }

    /** The value of the task's {@link GlueTask#selectionMetric()} in a map from {@code compute}. */
    public static double selection(GlueTask task, Map<String, Double> scores) {
        Double value = scores.get(task.selectionMetric().key());
        if (value == null) {
            throw new IllegalArgumentException(task.cliName() + " selects on '" + task.selectionMetric().key()
                    + "' but the scores hold " + scores.keySet());
        }
        return value;
    }
}
