package io.electra.finetune;

import io.electra.glue.GlueTask;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code summary.json} for several seeds: each run's best epoch and scores, and the median of the
 * selection score over seeds, the statistic the ELECTRA paper reports for GLUE dev.
 */
public final class SeedSummary {
    static final String FILE = "summary.json";

    private SeedSummary() {
    }

    /** The median; for an even count, the mean of the two middle values. */
    public static double median(double[] values) {
        if (values.length == 0) throw new IllegalArgumentException("median of no values");
        double[] s = values.clone();
        Arrays.sort(s);
        int mid = s.length / 2;
        return s.length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    }

    static double write(Path dir, GlueTask task, List<RunResult> runs) throws IOException {
        double[] scores = runs.stream().mapToDouble(RunResult::score).toArray();
        double median = median(scores);
        List<Map<String, Object>> perSeed = new ArrayList<>();
        for (RunResult r : runs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seed", r.seed());
            m.put("best_epoch", r.bestEpoch());
            m.put("score", r.score());
            m.put("dev", r.bestMetrics());
            m.put("folder", r.bestModel().getParent().getFileName().toString());
            perSeed.add(m);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("task", task.cliName());
        root.put("metric", task.selectionMetric().key());
        root.put("median", median);
        root.put("runs", perSeed);
        AtomicFiles.writeString(dir.resolve(FILE), RunReport.JSON.writeValueAsString(root) + "\n");
        return median;
    }
}
