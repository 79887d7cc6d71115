package io.electra.finetune;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code electra finetune}: prepares the data once, then runs one fine-tuning per seed. A single
 * seed writes into {@code --out}; several write {@code --out/seed-<s>/} each and a {@code summary.json}
 * with the median score.
 */
public final class Finetuning {
    private Finetuning() {
    }

    /** One result per seed, in the order of {@link FinetuneOptions#seeds()}. */
    public static List<RunResult> run(FinetuneOptions options, PrintStream log) throws IOException {
        FinetuneJob job = FinetuneJob.prepare(options, log);
        FinetuneRun runner = new FinetuneRun(job, log);
        List<Long> seeds = options.seeds();
        List<RunResult> results = new ArrayList<>();
        for (long seed : seeds) {
            Path dir = seeds.size() == 1 ? options.out() : options.out().resolve("seed-" + seed);
            log.printf("seed %d -> %s%n", seed, dir);
            RunResult r = runner.run(seed, dir);
            log.printf("seed %d: best epoch %d, dev %s %.4f (%.0f s)%n", seed, r.bestEpoch(),
                    options.task().selectionMetric().key(), r.score(), r.seconds());
            results.add(r);
        }
        if (seeds.size() > 1) {
            double median = SeedSummary.write(options.out(), options.task(), results);
            log.printf("median dev %s over seeds %s: %.4f%n", options.task().selectionMetric().key(), seeds, median);
        }
        return results;
    }
}
