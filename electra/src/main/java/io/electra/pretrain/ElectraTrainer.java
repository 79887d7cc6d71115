package io.electra.pretrain;

import io.electra.device.Devices;
import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;
import io.electra.engine.nn.Parameter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import io.electra.engine.optim.LinearWarmupDecay;
import io.electra.model.ElectraConfig;
import io.electra.model.ElectraInit;
import io.electra.model.ElectraInputs;
import io.electra.model.ElectraPretraining;
import io.electra.model.HfFolder;
import io.electra.model.MaskedLmPretraining;
import io.electra.model.Masking;
import io.electra.model.Preset;
import io.electra.pretrain.PretrainOptions.Objective;

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
            Run run = new Run(b, preset, data, seq, batch, totalSteps, maskProb, precision);
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

    private TrainingResult loop(Run run, AdamW opt, StepRunner steps, LinearWarmupDecay schedule, CheckpointStore store,
                                MetricsLog metrics, long step, long totalSteps, Path newest) throws IOException {
        long startNanos = System.nanoTime(), intervalStart = startNanos, intervalSteps = 0;
        StepMetrics last = null;
        boolean stopped = false;
        Progress progress = new Progress(log, step, totalSteps, opts.progressBar());
        String curvesProblem = null;  // once the PNG curves fail, training goes on without them
        while (step < totalSteps) {
            double currentLr = schedule.lr(step);
            Run.Losses losses = steps.train(step, currentLr, isLogStep(step + 1, totalSteps));
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
        private final Run run;
        private final AdamW opt;
        private GraphedStep graph;
        private boolean warm, tried;

        StepRunner(Run run, AdamW opt) {
            this.run = run;
            this.opt = opt;
        }

        /** Step {@code step} (0-based) at learning rate {@code lr}; the last micro-batch's losses when {@code read}. */
        Run.Losses train(long step, double lr, boolean read) {
            if (warm && !tried && opts.cudaGraph() != PretrainOptions.GraphMode.OFF) capture(step);
            warm = true;
            return graph != null ? replay(step, lr, read) : eager(step, lr, read);
        }

        private Run.Losses eager(long step, double lr, boolean read) {
            Run.Losses losses = null;
            for (int micro = 0; micro < opts.accumulate(); micro++) {
                long stream = step * opts.accumulate() + micro;
                boolean lastMicro = micro == opts.accumulate() - 1;
                losses = run.trainMicroBatch(stream, 1f / opts.accumulate(), lastMicro && read);
                if (losses != null) losses.requireFinite(step + 1);
            }
            opt.step(lr);
            return losses;
        }

        private Run.Losses replay(long step, double lr, boolean read) {
            opt.prepareStep(lr);
            for (int micro = 0; micro < opts.accumulate(); micro++) {
                long stream = step * opts.accumulate() + micro;
                run.loadMicroBatch(stream);
                graph.replayMicroBatch(stream);
            }
            graph.finishStep();
            if (!read) return null;
            Run.Losses losses = run.readLosses(true);
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

    private Path checkpoint(Run run, AdamW opt, CheckpointStore store, long step, long totalSteps) throws IOException {
        TrainerState state = new TrainerState(step, run.loader.epoch(), run.loader.position(), opts.seed(),
                run.presetName, opts.objective().name(), run.data.vocab().sha256(), run.batch, opts.accumulate(), run.seq,
                totalSteps, run.precision.toString());
        return store.save(step, dir -> {
            run.save(dir);
            opt.addStateTo(new SafeTensorsWriter()).write(dir.resolve(OPTIMIZER_FILE));
            state.write(dir);
        });
    }

    /** Everything one run holds: backend, model, buffers, data. */
    private final class Run {
        final Backend backend;
        final String presetName;
        final ExampleSource data;
        final int seq, batch;
        final Precision precision;
        final ElectraPretraining electra;      // null for the MLM objective
        final MaskedLmPretraining mlm;         // null for ELECTRA
        final List<Parameter> parameters;
        final Masking masking;
        final BatchLoader loader;
        final long trainRows, validationRows;
        final Tape tape;
        final Ops ops;
        final int[] ids, types, mask;
        final ElectraInputs inputs;
        final ElectraPretraining.DeviceMasking deviceMasking;
        final Tensor lossReadback;             // (3, 1) generator, discriminator, total loss of the last pass
        final Tensor logitsReadback;           // (N) discriminator logits of the last pass
        final Tensor labelsReadback;           // (N) replaced-token labels of the last pass
        int[] lastTargets = new int[0];        // (K) host copy of the last pass's prediction targets

        Run(Backend b, Preset preset, ExampleSource data, int seq, int batch, long totalSteps, double maskProb,
            Precision precision) throws IOException {
            this.backend = b;
            this.precision = precision;
            this.presetName = preset.name();
            this.data = data;
            this.seq = seq;
            this.batch = batch;
            ElectraConfig disc = preset.discriminator().withOverrides(opts.overrides());
            ElectraConfig gen = preset.generator().withOverrides(opts.overrides());
            if (opts.initDiscriminator() != null) {
                disc = HfFolder.readConfig(opts.initDiscriminator());
                gen = HfFolder.readConfig(opts.initGenerator());
            }
            if (seq > disc.maxPositionEmbeddings) {
                throw new IllegalArgumentException(opts.data() + ": rows of " + seq + " tokens exceed max_position_embeddings "
                        + disc.maxPositionEmbeddings);
            }
            if (data.vocab().size() > disc.vocabSize) {
                throw new IllegalArgumentException(opts.data() + ": shards use a vocab of " + data.vocab().size()
                        + " tokens but the model has vocab_size " + disc.vocabSize);
            }
            if (opts.objective() == Objective.ELECTRA) {
                electra = new ElectraPretraining(b, gen, disc, 50f);
                mlm = null;
                parameters = electra.parameters();
                if (opts.initDiscriminator() != null) electra.loadHf(opts.initGenerator(), opts.initDiscriminator());
            } else {
                electra = null;
                mlm = new MaskedLmPretraining(b, disc);
                parameters = mlm.parameters();
            }
            if (opts.initDiscriminator() == null) ElectraInit.apply(parameters, disc.initializerRange, opts.seed());
            // bf16 weight copies from the initialised masters; loads and AdamW keep them current
            if (electra != null) electra.usePrecision(precision);
            else mlm.usePrecision(precision);
            masking = new Masking(Masking.defaultMaxPredictions(maskProb, seq), maskProb, data.vocab().clsId(), data.vocab().sepId(),
                    data.vocab().maskId(), data.vocab().padId(), disc.vocabSize, opts.objective() == Objective.ELECTRA ? Masking.Style.ELECTRA : Masking.Style.BERT);
            long held = Math.min((long) opts.validationBatches() * batch, data.rows() / 10);
            validationRows = opts.validateEvery() > 0 ? held : 0;
            trainRows = data.rows() - validationRows;
            if (trainRows < 1) throw new IllegalArgumentException(opts.data() + ": no rows left for training");
            loader = new BatchLoader(data, trainRows, opts.seed());
            tape = new Tape(b);
            ops = new Ops(tape);
            ops.setPrecision(precision);
            int n = batch * seq, k = batch * masking.maxPredictions();
            ids = new int[n];
            types = new int[n];
            mask = new int[n];
            inputs = ElectraInputs.upload(b, batch, seq, ids, types, mask);
            deviceMasking = new ElectraPretraining.DeviceMasking(b.allocate(DType.I32, batch, seq), b.allocate(DType.I32, k),
                    b.allocate(DType.I32, k), b.allocate(DType.I32, k));
            lossReadback = b.allocate(DType.F32, 3, 1);
            logitsReadback = b.allocate(DType.F32, n);
            labelsReadback = b.allocate(DType.F32, n);
        }

        record Losses(double generator, double discriminator, double total, DetectionStats stats) {
            void requireFinite(long step) {
                if (!Double.isFinite(generator)) throw new NonFiniteLossException(step, "generator", generator);
                if (!Double.isFinite(discriminator)) throw new NonFiniteLossException(step, "discriminator", discriminator);
                if (!Double.isFinite(total)) throw new NonFiniteLossException(step, "total", total);
            }
        }

        /** Forward and backward of one micro-batch, eagerly; reads results back only when {@code read}. */
        Losses trainMicroBatch(long stream, float lossScale, boolean read) {
            loadMicroBatch(stream);
            devicePass(stream, lossScale, true);
            return read || backend.name().startsWith("cpu") ? readLosses(read) : null;
        }

        /** The host half of a micro-batch: the next rows, their masks, and the uploads of both. */
        void loadMicroBatch(long stream) {
            loader.next(batch, ids, types, mask);
            uploadBatch(stream);
        }

        /** Masks the rows in ids/types/mask with {@code stream}'s masking stream and uploads everything. */
        void uploadBatch(long stream) {
            Masking.Batch m = masking.apply(ids, mask, batch, seq, new RngKey(opts.seed(), stream, RngKey.MASKING));
            backend.upload(inputs.ids(), ids);
            backend.upload(inputs.tokenTypes(), types);
            backend.upload(inputs.attentionMask(), mask);
            backend.upload(deviceMasking.generatorIds(), m.maskedIds());
            backend.upload(deviceMasking.rows(), m.rows());
            backend.upload(deviceMasking.targets(), m.targets());
            backend.upload(deviceMasking.replaceAt(), m.replaceAt());
            lastTargets = m.targets();
        }

        /**
         * The device half: forward (and backward when {@code train}) on the uploaded batch, with dropout and
         * Gumbel streams of {@code stream}, leaving the losses, logits and labels in the persistent readback
         * tensors. No host reads, no uploads: this is what a step graph captures.
         */
        void devicePass(long stream, float lossScale, boolean train) {
            ops.setRng(opts.seed(), stream);
            ops.setTraining(train);
            try (var scope = train ? null : tape.noGrad()) {
                if (electra != null) {
                    var o = electra.forward(ops, inputs, deviceMasking, null, new RngKey(opts.seed(), stream, RngKey.GUMBEL), null);
                    if (train) tape.backward(lossScale == 1f ? o.total() : ops.scale(o.total(), lossScale));
                    keepLosses(o.generatorLoss(), o.discriminatorLoss(), o.total());
                    backend.copy(logitsReadback, o.discriminatorLogits().value());
                    backend.copy(labelsReadback, o.labels());
                } else {
                    Var loss = mlm.forward(ops, inputs, deviceMasking);
                    if (train) tape.backward(lossScale == 1f ? loss : ops.scale(loss, lossScale));
                    keepLosses(loss, null, loss);
                }
            } finally {
                tape.reset();
                backend.resetArena();
            }
        }

        private void keepLosses(Var generator, Var discriminator, Var total) {
            backend.copy(lossReadback.rows(0, 1), generator.value());
            if (discriminator != null) backend.copy(lossReadback.rows(1, 1), discriminator.value());
            backend.copy(lossReadback.rows(2, 1), total.value());
        }

        /** The losses the last device pass left (and its detection statistics when {@code withStats}). */
        Losses readLosses(boolean withStats) {
            float[] l = backend.downloadFloat(lossReadback);
            if (electra == null) return new Losses(l[0], 0, l[2], new DetectionStats(0, 0, 0, 0, 0));
            DetectionStats stats = withStats ? DetectionStats.of(backend.downloadFloat(logitsReadback),
                    backend.downloadFloat(labelsReadback), mask, lastTargets) : null;
            return new Losses(l[0], l[1], l[2], stats);
        }

        /** Mean total loss over the held-back rows, with fixed masks so values compare across steps. */
        Double validationLoss(int batches) {
            if (validationRows < batch) return null;
            double sum = 0;
            int count = 0;
            int[] rowIds = new int[seq], rowTypes = new int[seq];
            for (int v = 0; v < batches && (long) (v + 1) * batch <= validationRows; v++) {
                for (int r = 0; r < batch; r++) {
                    data.readRow(trainRows + (long) v * batch + r, rowIds, rowTypes);
                    System.arraycopy(rowIds, 0, ids, r * seq, seq);
                    System.arraycopy(rowTypes, 0, types, r * seq, seq);
                    for (int j = 0; j < seq; j++) mask[r * seq + j] = rowIds[j] != 0 ? 1 : 0;
                }
                uploadBatch(-1 - v);
                devicePass(-1 - v, 1f, false);
                sum += readLosses(false).total();
                count++;
            }
            return count == 0 ? null : sum / count;
        }

        void save(Path dir) throws IOException {
            if (electra != null) electra.saveHf(dir);
            else mlm.saveHf(dir);
            // like hub folders, each model folder carries its vocabulary (detect and finetune find it there)
            for (String model : new String[]{"generator", "discriminator", "mlm"}) {
                if (Files.isDirectory(dir.resolve(model))) writeVocab(data.vocab(), dir.resolve(model).resolve("vocab.txt"));
            }
        }

        void load(Path dir) throws IOException {
            if (electra != null) electra.loadHf(dir.resolve("generator"), dir.resolve("discriminator"));
            else mlm.loadHf(dir);
        }

        void checkCompatible(TrainerState s, Path dir) {
            String problem = null;
            if (!s.preset().equals(presetName)) problem = "preset " + s.preset() + ", this run " + presetName;
            else if (!s.objective().equals(opts.objective().name())) problem = "objective " + s.objective();
            else if (!s.vocabHash().equals(data.vocab().sha256())) problem = "shards built with another vocab (hash "
                    + s.vocabHash() + ", these shards " + data.vocab().sha256() + ")";
            else if (s.maxSeqLength() != seq) problem = "sequence length " + s.maxSeqLength() + ", shards " + seq;
            else if (s.batch() != batch || s.accumulate() != opts.accumulate()) problem = "batch " + s.batch() + "x"
                    + s.accumulate() + ", this run " + batch + "x" + opts.accumulate();
            else if (s.seed() != opts.seed()) problem = "seed " + s.seed() + ", this run " + opts.seed();
            if (problem != null) throw new IllegalArgumentException("cannot resume from " + dir + ": it was made with " + problem);
        }
    }

    static void writeVocab(io.electra.tokenizer.Vocab vocab, Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < vocab.size(); i++) sb.append(vocab.token(i)).append('\n');
        Files.writeString(file, sb);
    }

}
