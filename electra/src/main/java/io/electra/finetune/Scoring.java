package io.electra.finetune;

import io.electra.glue.GlueTask;
import io.electra.glue.Metrics;

import java.util.List;
import java.util.Map;

/** Turns logits into GLUE predictions (argmax class, or the regression output) and scores them. */
public final class Scoring {
    private Scoring() {
    }

    /** The index of the largest logit of each row; the first on ties. */
    public static int[] argmax(float[][] logits) {
        int[] out = new int[logits.length];
        for (int i = 0; i < logits.length; i++) {
            float[] row = logits[i];
            int best = 0;
            for (int j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
            out[i] = best;
        }
        return out;
    }

    /** The single output of each row of a regression head. */
    public static float[] regression(float[][] logits) {
        float[] out = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
            if (logits[i].length != 1) throw new IllegalArgumentException("row " + i + " has " + logits[i].length + " outputs, not 1");
            out[i] = logits[i][0];
        }
        return out;
    }

    /** The task's GLUE metrics for {@code logits} against the gold targets of {@code examples}. */
    public static Map<String, Double> metrics(GlueTask task, float[][] logits, List<EncodedExample> examples) {
        int n = examples.size();
        if (logits.length != n) throw new IllegalArgumentException(logits.length + " predictions for " + n + " rows");
        if (task.isRegression()) {
            float[] gold = new float[n];
            for (int i = 0; i < n; i++) gold[i] = examples.get(i).score();
            return Metrics.compute(task, regression(logits), gold);
        }
        int[] gold = new int[n];
        for (int i = 0; i < n; i++) gold[i] = examples.get(i).label();
        return Metrics.compute(task, argmax(logits), gold);
    }

    /** The prediction for one row of logits as the task's files write it: a label string or a score. */
    public static String predictionText(GlueTask task, float[] row) {
        if (task.isRegression()) return String.format(java.util.Locale.ROOT, "%.4f", row[0]);
        return task.labels().get(argmax(new float[][] {row})[0]);
    }
}
