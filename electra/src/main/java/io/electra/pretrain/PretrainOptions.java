package io.electra.pretrain;

import io.electra.engine.Precision;
import io.electra.model.Preset;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a pre-training run is configured by. Built with {@link ElectraTrainer#builder()}; the
 * command line fills the same builder. Zero or negative values mean "the preset's value".
 */
public record PretrainOptions(String preset, Path data, Path output, Path vocab, String device, long steps, int batch,
                              int accumulate, long seed, boolean resume, Path initGenerator, Path initDiscriminator,
                              Objective objective, double learningRate, int warmupSteps, int maxSeqLength,
                              double maskProb, int logEvery, int checkpointEvery, int keepCheckpoints,
                              int validateEvery, int validationBatches, Map<String, String> overrides,
                              double maxMinutes, boolean progressBar, GraphMode cudaGraph, Precision precision) {

    /** What is trained: ELECTRA's replaced-token detection, or a BERT masked LM of the discriminator's size. */
    public enum Objective { ELECTRA, MLM }

    /**
     * Whether the training step is captured once as a graph (a CUDA graph on the GPU) and replayed every
     * step: AUTO when the backend can capture it (else one line says why and steps run eagerly), ON
     * insists (a step that cannot be captured is an error), OFF always runs eagerly.
     */
    public enum GraphMode { AUTO, ON, OFF }

    public PretrainOptions {
        Objects.requireNonNull(preset, "preset");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(cudaGraph, "cudaGraph");
        overrides = Map.copyOf(overrides);
        if (accumulate < 1) throw new IllegalArgumentException("--accumulate must be >= 1, got " + accumulate);
        if ((initGenerator == null) != (initDiscriminator == null)) {
            throw new IllegalArgumentException("--init-from needs both a generator and a discriminator folder");
        }
    }

    /** The precision asked for, or the backend's default (BF16 on CUDA, FP32 on the CPU) when none was. */
    public Precision resolvedPrecision(io.electra.engine.Backend backend) {
        return precision != null ? precision : Precision.defaultFor(backend);
    }

    public Preset resolvedPreset() {
        return Preset.named(preset);
    }

    /** Fluent builder with the defaults the command line uses. */
    public static final class Builder {
        String preset = "tiny";
        Path data, output, vocab;
        String device = "auto";
        long steps = 0, seed = 42;
        int batch = 0, accumulate = 1, warmup = -1, maxSeq = 0, logEvery = 10, checkpointEvery = 500, keep = 3;
        int validateEvery = 100, validationBatches = 4;
        boolean resume, progressBar = true;
        Precision precision;
        Path initGen, initDisc;
        Objective objective = Objective.ELECTRA;
        GraphMode cudaGraph = GraphMode.AUTO;
        double lr = 0, mask = 0, maxMinutes = 0;
        final Map<String, String> overrides = new LinkedHashMap<>();

        public Builder preset(String v) { preset = v; return this; }
        public Builder data(Path v) { data = v; return this; }
        public Builder output(Path v) { output = v; return this; }
        /** The vocab the shards were built with (default: the one recorded in the shard index). */
        public Builder vocab(Path v) { vocab = v; return this; }
        /** "cpu", "cuda" or "auto" (CUDA when a device answers). */
        public Builder device(String v) { device = v; return this; }
        public Builder steps(long v) { steps = v; return this; }
        public Builder batch(int v) { batch = v; return this; }
        public Builder accumulate(int v) { accumulate = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder resume(boolean v) { resume = v; return this; }
        public Builder initFrom(Path generator, Path discriminator) { initGen = generator; initDisc = discriminator; return this; }
        public Builder objective(Objective v) { objective = v; return this; }
        public Builder learningRate(double v) { lr = v; return this; }
        public Builder warmupSteps(int v) { warmup = v; return this; }
        public Builder maxSeqLength(int v) { maxSeq = v; return this; }
        public Builder maskProb(double v) { mask = v; return this; }
        public Builder logEvery(int v) { logEvery = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder keepCheckpoints(int v) { keep = v; return this; }
        public Builder validateEvery(int v) { validateEvery = v; return this; }
        public Builder validationBatches(int v) { validationBatches = v; return this; }
        /** Overrides a config.json field of both networks, e.g. ("hidden_dropout_prob", "0"). */
        public Builder override(String field, String value) { overrides.put(field, value); return this; }
        /** Stops (with a checkpoint) after this many minutes of training; 0 = no limit. */
        public Builder maxMinutes(double v) { maxMinutes = v; return this; }
        public Builder progressBar(boolean v) { progressBar = v; return this; }
        /** Capture the step as a graph and replay it: AUTO (default), ON or OFF; see {@link GraphMode}. */
        public Builder cudaGraph(GraphMode v) { cudaGraph = v; return this; }

        /**
         * FP32 or BF16 mixed precision; null (the default) picks BF16 on CUDA and FP32 on the CPU,
         * where BF16 is an emulation for testing (slower). A run may resume a checkpoint made in
         * the other precision: checkpoints hold the F32 masters either way.
         */
        public Builder precision(Precision v) { precision = v; return this; }

        public PretrainOptions options() {
            return new PretrainOptions(preset, data, output, vocab, device, steps, batch, accumulate, seed, resume,
                    initGen, initDisc, objective, lr, warmup, maxSeq, mask, logEvery, checkpointEvery, keep,
                    validateEvery, validationBatches, overrides, maxMinutes, progressBar, cudaGraph, precision);
        }
    }
}
