package io.electra.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.json}: the run's configuration, every epoch's metrics and the best epoch,
 * rewritten (atomically) after every epoch so an interrupted run still has its numbers.
 */
final class RunReport {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String FILE = "metrics.json";

    private RunReport() {
    }

    static void write(Path dir, Map<String, Object> config, long seed, List<EpochRecord> epochs, int bestEpoch,
                      double seconds, boolean finished) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("config", config);
        root.put("seed", seed);
        root.put("finished", finished);
        root.put("seconds", seconds);
        root.put("best_epoch", bestEpoch);
        root.put("best", epochs.get(bestEpoch - 1));
        root.put("epochs", epochs);
        AtomicFiles.writeString(dir.resolve(FILE), JSON.writeValueAsString(root) + "\n");
    }
}
