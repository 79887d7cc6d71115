package io.electra.cli;

import io.electra.engine.Precision;
import io.electra.finetune.FinetuneOptions;
import io.electra.finetune.Finetuning;
import io.electra.glue.GlueTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code electra finetune}: parses the options; {@link Finetuning} does the work. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Fine-tune an ELECTRA discriminator on a GLUE task with the official recipe.",
                "Unset hyper-parameters follow the model size (lr 3e-4 Small, 1e-4 Base, 5e-5 Large) and the task "
                        + "(3 epochs, 10 for RTE and STS-B)."})
public final class FinetuneCommand implements Callable<Integer> {
    @Option(names = "--task", required = true, converter = TaskConverter.class,
            description = "cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte or wnli")
    GlueTask task;

    @Option(names = "--model", required = true,
            description = "HuggingFace discriminator folder, or a pre-training checkpoint (its discriminator/ is used)")
    Path model;

    @Option(names = "--data", required = true, description = "GLUE task folder with train.tsv and dev.tsv")
    Path data;

    @Option(names = "--out", required = true, description = "output folder: best/, metrics.json, curves.png, predictions")
    Path out;

    @Option(names = "--vocab", description = "vocab.txt (default: the model's or its checkpoint's)")
    Path vocab;

    @Option(names = "--epochs", description = "default: 3, 10 for RTE and STS-B")
    Integer epochs;

    @Option(names = "--lr", description = "peak learning rate (default by hidden size: 256 -> 3e-4, 768 -> 1e-4, 1024 -> 5e-5)")
    Double lr;

    @Option(names = "--batch", defaultValue = "32", description = "examples per update (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--max-length", defaultValue = "128", description = "tokens per example, pairs cut longest-first (default: ${DEFAULT-VALUE})")
    int maxLength;

    @Option(names = "--layerwise-decay", description = "learning-rate factor per layer down from the head (default 0.8, 0.9 for 24 layers)")
    Double layerwiseDecay;

    @Option(names = "--warmup", defaultValue = "0.1", description = "fraction of updates spent warming up (default: ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--seeds", split = ",", description = "several seeds, e.g. 1,2,3: one run each in seed-<s>/ and the median")
    List<Long> seeds;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, cuda or auto (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--precision", description = "fp32 or bf16 mixed precision (default: bf16 on CUDA, fp32 on the CPU, "
            + "where bf16 is an emulation for testing)")
    String precision;

    @Option(names = "--skip-bad-rows", description = "skip malformed TSV rows (reported) instead of failing")
    boolean skipBadRows;

    @Option(names = "--max-train-examples", defaultValue = "0", description = "train on the first N rows only (0: all)")
    int maxTrainExamples;

    @Option(names = "--no-progress-bar", negatable = false, description = "plain progress lines even on a terminal")
    boolean noProgressBar;

    @Override
    public Integer call() throws Exception {
        FinetuneOptions o = FinetuneOptions.builder(task, model, data, out).vocab(vocab).epochs(epochs).learningRate(lr)
                .batch(batch).maxLength(maxLength).layerwiseDecay(layerwiseDecay).warmupProportion(warmup)
                .weightDecay(weightDecay).seeds(seeds != null ? seeds : List.of(seed)).device(device)
                .skipBadRows(skipBadRows).maxTrainExamples(maxTrainExamples).progressBar(!noProgressBar)
                .precision(precision == null ? null : Precision.parse(precision)).build();
        Finetuning.run(o, System.out);
        return 0;
    }

    /** GLUE task names as {@link GlueTask#fromName} accepts them ({@code sst2}, {@code SST-2}). */
    public static final class TaskConverter implements ITypeConverter<GlueTask> {
        @Override
        public GlueTask convert(String value) {
            try {
                return GlueTask.fromName(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
