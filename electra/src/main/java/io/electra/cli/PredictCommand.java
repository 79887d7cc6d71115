package io.electra.cli;

import io.electra.finetune.InferenceOptions;
import io.electra.finetune.Prediction;
import io.electra.glue.GlueTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code electra predict}: GLUE submission files from a fine-tuned model. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Write GLUE submission files for unlabelled test TSVs.",
                "--data is a test TSV, or a task folder (every split's test file: MNLI has two)."})
public final class PredictCommand implements Callable<Integer> {
    @Option(names = "--task", required = true, converter = FinetuneCommand.TaskConverter.class,
            description = "cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte or wnli")
    GlueTask task;

    @Option(names = "--model", required = true, description = "fine-tuned folder (e.g. <finetune --out>/best)")
    Path model;

    @Option(names = "--data", required = true, description = "test TSV or GLUE task folder")
    Path data;

    @Option(names = "--out", required = true, description = "folder for the submission files (SST-2.tsv, MNLI-m.tsv, ...)")
    Path out;

    @Option(names = "--vocab", description = "vocab.txt (default: the model folder's)")
    Path vocab;

    @Option(names = "--batch", defaultValue = "64", description = "rows per forward pass (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--max-length", description = "tokens per example (default: the length the model was fine-tuned with)")
    Integer maxLength;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, cuda or auto (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--skip-bad-rows", description = "skip malformed TSV rows (reported) instead of failing")
    boolean skipBadRows;

    @Override
    public Integer call() throws Exception {
        Prediction.run(new InferenceOptions(task, model, data, out, vocab, batch, maxLength, device, skipBadRows), System.err);
        return 0;
    }
}
