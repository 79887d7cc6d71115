package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.Precision;
import io.electra.glue.GlueTask;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@code electra finetune} was asked for. Null hyper-parameters take the official recipe's value
 * for the model and task ({@link Recipe}).
 *
 * @param model              HF discriminator folder, fine-tuned folder, or pre-training checkpoint
 * @param data               GLUE task folder with {@code train.tsv} and the dev file(s)
 * @param vocab              vocab.txt, or null to find it beside the model ({@link ModelLocation})
 * @param seeds              one run per seed; several give a {@code summary.json} with the median
 * @param maxTrainExamples   train on the first this many rows of {@code train.tsv} (0: all)
 * @param progressBar        a bar on a terminal; plain lines are printed otherwise either way
 * @param precision          FP32 or BF16 mixed precision; null picks BF16 on CUDA, FP32 on the CPU
 */
public record FinetuneOptions(GlueTask task, Path model, Path data, Path out, Path vocab, Integer epochs,
                              Double learningRate, int batch, int maxLength, Double layerwiseDecay,
                              double warmupProportion, double weightDecay, List<Long> seeds, String device,
                              boolean skipBadRows, int maxTrainExamples, boolean progressBar,
                              Precision precision) {

    public FinetuneOptions {
        if (task == null || model == null || data == null || out == null) {
            throw new IllegalArgumentException("task, model, data and out are required");
        }
        if (epochs != null && epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        if (learningRate != null && !(learningRate > 0)) throw new IllegalArgumentException("--lr must be positive, got " + learningRate);
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (maxLength < 3) throw new IllegalArgumentException("--max-length must leave room for [CLS] and two [SEP], got " + maxLength);
        if (layerwiseDecay != null && !(layerwiseDecay > 0 && layerwiseDecay <= 1)) {
            throw new IllegalArgumentException("--layerwise-decay must be in (0, 1], got " + layerwiseDecay);
        }
        if (!(warmupProportion >= 0 && warmupProportion <= 1)) {
            throw new IllegalArgumentException("warmup proportion must be in [0, 1], got " + warmupProportion);
        }
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        if (seeds == null || seeds.isEmpty()) throw new IllegalArgumentException("at least one seed is needed");
        if (seeds.stream().distinct().count() != seeds.size()) throw new IllegalArgumentException("repeated seed in " + seeds);
        if (maxTrainExamples < 0) throw new IllegalArgumentException("max train examples must be >= 0");
        seeds = List.copyOf(seeds);
    }

    /** Options with the recipe's defaults for everything but the four required ones. */
    public static Builder builder(GlueTask task, Path model, Path data, Path out) {
        return new Builder(task, model, data, out);
    }

    /** The same options for a single seed, writing to {@code dir}. */
    FinetuneOptions forSeed(long seed, Path dir) {
        return new FinetuneOptions(task, model, data, dir, vocab, epochs, learningRate, batch, maxLength, layerwiseDecay,
                warmupProportion, weightDecay, List.of(seed), device, skipBadRows, maxTrainExamples, progressBar, precision);
    }

    /** The precision to run in on {@code backend}: as asked, else BF16 on CUDA and FP32 on the CPU. */
    public Precision resolvedPrecision(Backend backend) {
        return precision != null ? precision : Precision.defaultFor(backend);
    }

    /** Defaults as ELECTRA's fine-tuning: batch 32, length 128, 10% warmup, weight decay 0.01, seed 1. */
    public static final class Builder {
        private final GlueTask task;
        private final Path model, data, out;
        private Path vocab;
        private Integer epochs;
        private Double lr, layerwiseDecay;
        private int batch = 32, maxLength = 128, maxTrainExamples;
        private double warmup = 0.1, weightDecay = 0.01;
        private List<Long> seeds = List.of(1L);
        private String device = "auto";
        private boolean skipBadRows, progressBar = true;
        private Precision precision;

        private Builder(GlueTask task, Path model, Path data, Path out) {
            this.task = task;
            this.model = model;
            this.data = data;
            this.out = out;
        }

        public Builder vocab(Path v) { vocab = v; return this; }
        public Builder epochs(Integer v) { epochs = v; return this; }
        public Builder learningRate(Double v) { lr = v; return this; }
        public Builder batch(int v) { batch = v; return this; }
        public Builder maxLength(int v) { maxLength = v; return this; }
        public Builder layerwiseDecay(Double v) { layerwiseDecay = v; return this; }
        public Builder warmupProportion(double v) { warmup = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder seeds(List<Long> v) { seeds = v; return this; }
        public Builder device(String v) { device = v; return this; }
        public Builder skipBadRows(boolean v) { skipBadRows = v; return this; }
        public Builder maxTrainExamples(int v) { maxTrainExamples = v; return this; }
        public Builder progressBar(boolean v) { progressBar = v; return this; }
        public Builder precision(Precision v) { precision = v; return this; }

        public FinetuneOptions build() {
            return new FinetuneOptions(task, model, data, out, vocab, epochs, lr, batch, maxLength, layerwiseDecay,
                    warmup, weightDecay, seeds, device, skipBadRows, maxTrainExamples, progressBar, precision);
        }
    }
}
