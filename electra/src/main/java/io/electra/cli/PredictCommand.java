package io.electra.cli;

import io.electra.finetune.Prediction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code electra predict}: GLUE submission files from a fine-tuned model. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Write GLUE submission files for unlabelled test TSVs.",
                "--data is a test TSV, or a task folder (every split's test file: MNLI has two)."})
public final class PredictCommand implements Callable<Integer> {
    @Mixin
    InferenceFlags flags;

    @Option(names = "--data", required = true, description = "test TSV or GLUE task folder")
    Path data;

    @Option(names = "--out", required = true, description = "folder for the submission files (SST-2.tsv, MNLI-m.tsv, ...)")
    Path out;

    @Override
    public Integer call() throws Exception {
        Prediction.run(flags.options(data, out), System.err);
        return 0;
    }
}
