package io.electra.cli;

import io.electra.engine.Precision;
import io.electra.pretrain.ElectraTrainer;
import io.electra.pretrain.PretrainOptions;
import io.electra.pretrain.TrainingResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code electra pretrain}: the command-line face of {@link ElectraTrainer}. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "Pre-train ELECTRA (or the BERT masked-LM baseline) on shards from 'electra prepare'.")
public final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "shard folder written by 'electra prepare'")
    Path data;
    @Option(names = "--preset", defaultValue = "small", description = "tiny, small2l, small, base or large (default ${DEFAULT-VALUE})")
    String preset;
    @Option(names = "--out", required = true, description = "output folder: checkpoints, metrics.jsonl, curves")
    Path out;
    @Option(names = "--steps", defaultValue = "0", description = "training steps (default: the preset's)")
    long steps;
    @Option(names = "--batch", defaultValue = "0", description = "sequences per micro-batch (default: the preset's)")
    int batch;
    @Option(names = "--accumulate", defaultValue = "1", description = "micro-batches per optimizer step (default ${DEFAULT-VALUE})")
    int accumulate;
    @Option(names = "--device", defaultValue = "auto", description = "cpu, cuda or auto (default ${DEFAULT-VALUE})")
    String device;
    @Option(names = "--precision", description = "fp32 or bf16 mixed precision (default: bf16 on CUDA, fp32 on the CPU, "
            + "where bf16 is an emulation for testing)")
    String precision;
    @Option(names = "--seed", defaultValue = "42", description = "seed of initialisation, data order, masks and noise (default ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--resume", description = "continue from the newest complete checkpoint in --out")
    boolean resume;
    @Option(names = "--init-from", split = ",", arity = "1", paramLabel = "GEN_DIR,DISC_DIR",
            description = "continue pre-training from HuggingFace generator and discriminator folders")
    Path[] initFrom;
    @Option(names = "--objective", defaultValue = "electra", description = "electra or mlm (BERT masked LM at the discriminator's size)")
    String objective;
    @Option(names = "--lr", defaultValue = "0", description = "peak learning rate (default: the preset's)")
    double lr;
    @Option(names = "--warmup", defaultValue = "-1", description = "warmup steps (default: the preset's)")
    int warmup;
    @Option(names = "--mask-prob", defaultValue = "0", description = "masking rate (default: the preset's)")
    double maskProb;
    @Option(names = "--vocab", description = "vocab.txt the shards were built with (default: the one the shard index names)")
    Path vocab;
    @Option(names = "--log-every", defaultValue = "10", description = "metrics every N steps (default ${DEFAULT-VALUE})")
    int logEvery;
    @Option(names = "--checkpoint-every", defaultValue = "1000", description = "checkpoint every N steps (default ${DEFAULT-VALUE})")
    int checkpointEvery;
    @Option(names = "--keep", defaultValue = "3", description = "checkpoints kept (default ${DEFAULT-VALUE})")
    int keep;
    @Option(names = "--validate-every", defaultValue = "500", description = "validation loss every N steps, 0 = never (default ${DEFAULT-VALUE})")
    int validateEvery;
    @Option(names = "--max-minutes", defaultValue = "0", description = "stop with a checkpoint after this long (default: no limit)")
    double maxMinutes;
    @Option(names = "--cuda-graph", defaultValue = "auto",
            description = "auto, on or off: capture the training step once as a CUDA graph and replay it every step "
                    + "(auto: when the backend can; on: fail if it cannot) (default ${DEFAULT-VALUE})")
    String cudaGraph;
    @Option(names = "--set", paramLabel = "FIELD=VALUE", description = "override a config.json field of both networks, e.g. hidden_dropout_prob=0")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        PretrainOptions.Builder b = ElectraTrainer.options().preset(preset).data(data).output(out).device(device)
                .steps(steps).batch(batch).accumulate(accumulate).seed(seed).resume(resume).learningRate(lr)
                .warmupSteps(warmup).maskProb(maskProb).vocab(vocab).logEvery(logEvery).checkpointEvery(checkpointEvery)
                .keepCheckpoints(keep).validateEvery(validateEvery).maxMinutes(maxMinutes)
                .objective(PretrainOptions.Objective.valueOf(objective.toUpperCase(java.util.Locale.ROOT)))
                .cudaGraph(graphMode(cudaGraph));
        if (initFrom != null) {
            if (initFrom.length != 2) throw new IllegalArgumentException("--init-from needs GEN_DIR,DISC_DIR");
            b.initFrom(initFrom[0], initFrom[1]);
        }
        if (precision != null) b.precision(Precision.parse(precision));
        overrides.forEach(b::override);
        TrainingResult r = new ElectraTrainer(b.options(), null).run();
        System.err.println("finished at step " + r.step() + (r.cancelled() ? " (stopped early)" : "")
                + "; newest checkpoint: " + r.checkpoint());
        return 0;
    }

    private static PretrainOptions.GraphMode graphMode(String value) {
        try {
            return PretrainOptions.GraphMode.valueOf(value.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--cuda-graph must be auto, on or off, got '" + value + "'");
        }
    }
}
