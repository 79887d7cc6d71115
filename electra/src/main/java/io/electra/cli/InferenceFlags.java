package io.electra.cli;

import io.electra.finetune.InferenceOptions;
import io.electra.glue.GlueTask;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options {@code evaluate} and {@code predict} share: which model, how to batch, where to run. */
final class InferenceFlags {
    @Option(names = "--task", required = true, converter = FinetuneCommand.TaskConverter.class,
            description = "cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte or wnli")
    GlueTask task;

    @Option(names = "--model", required = true, description = "fine-tuned folder (e.g. <finetune --out>/best)")
    Path model;

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

    /** {@code output} is the evaluation's predictions TSV or the prediction's submission folder. */
    InferenceOptions options(Path data, Path output) {
        return new InferenceOptions(task, model, data, output, vocab, batch, maxLength, device, skipBadRows);
    }
}
