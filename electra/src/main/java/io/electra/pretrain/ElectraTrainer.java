package io.electra.pretrain;

import io.electra.device.Devices;
import io.electra.engine.Backend;
import io.electra.engine.Precision;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import io.electra.engine.optim.LinearWarmupDecay;
import io.electra.model.Preset;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Pre-trains ELECTRA (or the BERT masked-LM baseline) on prepared shards: the library entry point
 * behind {@code electra pretrain}. No {@code System.exit}, no global state; {@link #cancel} from any
 * thread stops at the next step boundary and leaves a resumable checkpoint.
 *
 * <pre>{@code
 * var trainer = new ElectraTrainer(ElectraTrainer.options().preset("tiny").data(shards).output(out).steps(500).options(),
 *         m -> System.out.println(m.step() + " " + m.totalLoss()));
 * TrainingResult r = trainer.run();
 * }</pre>
 */
public final class ElectraTrainer {
    private static final String OPTIMIZER_FILE = "optimizer.safetensors";
    private final PretrainOptions opts;
    private final ExampleSource source;
    private final TrainingListener listener;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private PrintStream log = System.err;
    private Supplier<Backend> backendFactory;

    /** A run over the shards in {@code options.data()}. */
    public ElectraTrainer(PretrainOptions options, TrainingListener listener) {
        this(options, null, listener);
    }

    /** A run over {@code source} (any rows; {@code options.data()} is then only named in messages). */
    public ElectraTrainer(PretrainOptions options, ExampleSource source, TrainingListener listener) {
        this.opts = options;
        this.source = source;
        this.listener = listener == null ? m -> { } : listener;
    }

    public static PretrainOptions.Builder options() {
        return new PretrainOptions.Builder();
    }

    /** Where progress lines go (standard error by default). */
    public ElectraTrainer log(PrintStream out) {
        this.log = out;
        return this;
    }

    /**
     * Trains on the backend {@code factory} makes (the run closes it) instead of the one
     * {@code options.device()} selects: for embedding and for tests.
     */
    public ElectraTrainer backend(Supplier<Backend> factory) {
        this.backendFactory = factory;
        return this;
    }

    /** Asks the run to stop after the current step, writing a checkpoint first. */
    public void cancel() {
        cancelled.set(true);
    }

    public TrainingResult run() throws IOException {
        Preset preset = opts.resolvedPreset();
        ExampleSource data = source != null ? source : ShardSource.open(opts.data(), opts.vocab());
        int seq = data.maxLength();
        int batch = opts.batch() > 0 ? opts.batch() : preset.batchSize();
        long totalSteps = opts.steps() > 0 ? opts.steps() : preset.trainSteps();
        double lr = opts.learningRate() > 0 ? opts.learningRate() : preset.learningRate();
        int warmup = opts.warmupSteps() >= 0 ? opts.warmupSteps() : preset.warmupSteps();
        double maskProb = opts.maskProb() > 0 ? opts.maskProb() : preset.maskProb();
        Files.createDirectories(opts.output());

        try (Backend b = backendFactory != null ? backendFactory.get() : Devices.select(opts.device(), log)) {
            Precision precision = opts.resolvedPrecision(b);
            log.println("precision " + precision + (precision == Precision.BF16 && !b.name().startsWith("cuda")
                    ? " (emulated on the CPU for testing: the GPU's roundings, slower than fp32)" : ""));
            TrainingRun run = new TrainingRun(opts, b, preset, data, seq, batch, totalSteps, maskProb, precision);
            AdamW opt = new AdamW(b, run.parameters, AdamWConfig.electra());
            LinearWarmupDecay schedule = new LinearWarmupDecay(lr, warmup, totalSteps);
            CheckpointStore store = new CheckpointStore(opts.output().resolve("checkpoints"), opts.keepCheckpoints());
            long step = 0;
            Path newest = null;
            if (opts.resume()) {
                var found = store.newest();
                if (found.isPresent()) {
                    newest = found.get();
                    TrainerState s = TrainerState.read(newest);
                    run.checkCompatible(s, newest);
                    run.load(newest);
                    try (SafeTensorsFile f = SafeTensorsFile.open(newest.resolve(OPTIMIZER_FILE))) {
                        opt.readState(f);
                    }
                    run.loader.seek(s.epoch(), s.position());
                    step = s.step();
                    log.println("resumed from " + newest + " at step " + step);
                    if (s.precision() != null && !s.precision().equals(precision.toString())) {
                        log.println("the checkpoint was trained in " + s.precision() + ", this run continues in "
                                + precision + " (checkpoints hold the F32 master weights, so either resumes either)");
                    }
                } else {
                    log.println("--resume: no complete checkpoint in " + store + "; starting fresh");
                }
            }
            try (MetricsLog metrics = new MetricsLog(opts.output().resolve("metrics.jsonl"), step > 0);
                 StepRunner steps = new StepRunner(run, opt)) {
                metrics.dropFrom(step + 1);
                return loop(run, opt, steps, schedule, store, metrics, step, totalSteps, newest);
            }
        }
    }

    private TrainingResult loop(TrainingRun run, AdamW opt, StepRunner steps, LinearWarmupDecay schedule, CheckpointStore store,
                                MetricsLog metrics, long step, long totalSteps, Path newest) throws IOException {
        long startNanos = System.nanoTime(), intervalStart = startNanos, intervalSteps = 0;
        StepMetrics last = null;
        boolean stopped = false;
        Progress progress = new Progress(log, step, totalSteps, opts.progressBar(), opts.objective() == PretrainOptions.Objective.ELECTRA);
        String curvesProblem = null;  // once the PNG curves fail, training goes on without them
        while (step < totalSteps) {
            double currentLr = schedule.lr(step);
            TrainingRun.Losses losses = steps.train(step, currentLr, isLogStep(step + 1, totalSteps));
            step++;
            intervalSteps++;
            progress.update(step);
            if (losses != null && losses.stats() != null) {
                double seconds = (System.nanoTime() - intervalStart) / 1e9;
                double seqPerSec = intervalSteps * (double) run.batch * opts.accumulate() / seconds;
                Double validation = opts.validateEvery() > 0 && (step % opts.validateEvery() == 0 || step == totalSteps)
                        ? run.validationLoss(opts.validationBatches()) : null;
                last = new StepMetrics(step, losses.generator(), losses.discriminator(), losses.total(),
                        losses.stats().accuracy(), losses.stats().precision(), losses.stats().recall(),
                        losses.stats().replacedFraction(), currentLr, opt.lastGradNorm(), seqPerSec, seqPerSec * run.seq,
                        run.backend.memoryStats().peakBytes(), validation, run.precision.toString());
                metrics.write(last);
                curvesProblem = drawCurves(metrics.records(), curvesProblem);
                listener.onMetrics(last);
                progress.metrics(last);
                intervalStart = System.nanoTime();
                intervalSteps = 0;
            }
            boolean timeUp = opts.maxMinutes() > 0 && (System.nanoTime() - startNanos) / 60e9 >= opts.maxMinutes();
            stopped = cancelled.get() || timeUp;
            if (step == totalSteps || stopped || (opts.checkpointEvery() > 0 && step % opts.checkpointEvery() == 0)) {
                newest = checkpoint(run, opt, store, step, totalSteps);
            }
            if (stopped) {
                log.println((timeUp ? "time limit reached" : "cancelled") + " at step " + step + "; checkpoint " + newest);
                break;
            }
        }
        progress.close();
        return new TrainingResult(step, newest, stopped, last);
    }

    /**
     * {@link Curves#draw}, but a PNG that cannot be drawn never stops training: the reason is printed
     * once (a full disk, or a JVM without AWT or XChart such as the GPU bundle's jlink runtime) and
     * later calls do nothing. Kept out of Curves, whose loading itself needs XChart. Returns the
     * reason, or null while drawing works; pass back what the last call returned.
     */
    private String drawCurves(List<StepMetrics> records, String earlierProblem) {
        if (earlierProblem != null) return earlierProblem;
        try {
            Curves.draw(records, opts.output());
            return null;
        } catch (IOException | RuntimeException | LinkageError e) {
            log.println("training curves not drawn, training goes on (" + e + "); metrics.jsonl holds every value");
            return e.toString();
        }
    }

    private boolean isLogStep(long step, long total) {
        return step == total || (opts.logEvery() > 0 && step % opts.logEvery() == 0)
                || (opts.validateEvery() > 0 && step % opts.validateEvery() == 0);
    }

    /**
     * Runs training steps eagerly, or, once one eager step has warmed every buffer, as replays of the
     * step captured by {@link GraphedStep} (when {@code options.cudaGraph()} allows and the backend can).
     * Either way nothing reads back to the host except the losses of log steps (and, eagerly on the
     * CPU, every micro-batch's losses for the non-finite check, as reads cost nothing there).
     */
    private final class StepRunner implements AutoCloseable {
        private final TrainingRun run;
        private final AdamW opt;
        private GraphedStep graph;
        private boolean warm, tried;

        StepRunner(TrainingRun run, AdamW opt) {
            this.run = run;
            this.opt = opt;
        }

        /** Step {@code step} (0-based) at learning rate {@code lr}; the last micro-batch's losses when {@code read}. */
        TrainingRun.Losses train(long step, double lr, boolean read) {
            if (warm && !tried && opts.cudaGraph() != PretrainOptions.GraphMode.OFF) capture(step);
            warm = true;
            return graph != null ? replay(step, lr, read) : eager(step, lr, read);
        }

        private TrainingRun.Losses eager(long step, double lr, boolean read) {
            TrainingRun.Losses losses = null;
            for (int micro = 0; micro < opts.accumulate(); micro++) {
                long stream = step * opts.accumulate() + micro;
                boolean lastMicro = micro == opts.accumulate() - 1;
                losses = run.trainMicroBatch(stream, 1f / opts.accumulate(), lastMicro && read);
                if (losses != null) losses.requireFinite(step + 1);
            }
            opt.step(lr);
            return losses;
        }

        private TrainingRun.Losses replay(long step, double lr, boolean read) {
            opt.prepareStep(lr);
            for (int micro = 0; micro < opts.accumulate(); micro++) {
                long stream = step * opts.accumulate() + micro;
                run.loadMicroBatch(stream);
                graph.replayMicroBatch(stream);
            }
            graph.finishStep();
            if (!read) return null;
            TrainingRun.Losses losses = run.readLosses(true);
            losses.requireFinite(step + 1);
            return losses;
        }

        /** Records the device half of step {@code step}; nothing runs until the replay. */
        private void capture(long step) {
            tried = true;
            long stream = step * opts.accumulate();
            float lossScale = 1f / opts.accumulate();
            GraphedStep.Attempt a = GraphedStep.capture(run.backend, stream,
                    () -> run.devicePass(stream, lossScale, true), opt::runStep, opts.accumulate() == 1);
            if (a.step() != null) {
                graph = a.step();
                log.println("step graph: captured at step " + (step + 1) + "; every step from here is one replay"
                        + (opts.accumulate() > 1 ? " per micro-batch plus one for the optimizer" : ""));
            } else if (opts.cudaGraph() == PretrainOptions.GraphMode.ON) {
                throw new IllegalStateException("--cuda-graph on: " + a.reason());
            } else {
                log.println("step graph: off, steps run eagerly (" + a.reason() + ")");
            }
        }

        @Override
        public void close() {
            if (graph != null) graph.close();
        }
    }

    private Path checkpoint(TrainingRun run, AdamW opt, CheckpointStore store, long step, long totalSteps) throws IOException {
        TrainerState state = new TrainerState(step, run.loader.epoch(), run.loader.position(), opts.seed(),
                run.presetName, opts.objective().name(), run.data.vocab().sha256(), run.batch, opts.accumulate(), run.seq,
                totalSteps, run.precision.toString());
        return store.save(step, dir -> {
            run.save(dir);
            opt.addStateTo(new SafeTensorsWriter()).write(dir.resolve(OPTIMIZER_FILE));
            state.write(dir);
        });
    }


    static void writeVocab(io.electra.tokenizer.Vocab vocab, Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < vocab.size(); i++) sb.append(vocab.token(i)).append('\n');
        Files.writeString(file, sb);
    }

}
