package io.electra.finetune;

import io.electra.device.Devices;
import io.electra.engine.Backend;
import io.electra.engine.Precision;
import io.electra.engine.autograd.Ops;
import io.electra.engine.nn.Bf16Copies;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.LrSchedule;
import io.electra.glue.GlueTask;
import io.electra.glue.Metrics;
import io.electra.model.ElectraClassifier;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One fine-tuning run (one seed) into one folder: train for the recipe's epochs, score every dev
 * split after each, and keep the best epoch's model ({@code best/}), its dev predictions,
 * {@code metrics.json} and {@code curves.png}.
 */
public final class FinetuneRun {
    public static final String BEST = "best";

    private final FinetuneJob job;
    private final PrintStream log;

    public FinetuneRun(FinetuneJob job, PrintStream log) {
        this.job = job;
        this.log = log;
    }

    /** Trains with {@code seed} and writes the run's outputs into {@code dir}. */
    public RunResult run(long seed, Path dir) throws IOException {
        Files.createDirectories(dir);
        long start = System.nanoTime();
        GlueTask task = job.task();
        Recipe recipe = job.recipe();
        List<EncodedExample> train = job.data().train();
        try (Backend backend = Devices.select(job.options().device(), log)) {
            ElectraClassifier model = ClassifierFolder.forTraining(backend, job.location().weights(), job.config(), task,
                    seed, log);
            Precision precision = job.options().resolvedPrecision(backend);
            if (precision == Precision.BF16) {  // bf16 copies of every Linear weight, refreshed by AdamW
                log.println("precision BF16" + (backend.name().startsWith("cuda") ? ""
                        : " (emulated on the CPU for testing: the GPU's roundings, slower than fp32)"));
                Bf16Copies.enableLinearWeights(model);
            }
            Tape tape = new Tape(backend);
            Ops ops = new Ops(tape);
            ops.setPrecision(precision);
            Predictor predictor = new Predictor(tape, ops, recipe.batch());
            LrSchedule schedule = FinetuneOptimizer.schedule(recipe, train.size());
            Map<String, Object> config = job.describe(seed, backend.name());
            config.put("precision", precision.name().toLowerCase(java.util.Locale.ROOT));
            List<EpochRecord> epochs = new ArrayList<>();
            int bestEpoch = 0;
            List<float[][]> bestLogits = null;
            String curvesProblem = null;
            try (AdamW optimizer = FinetuneOptimizer.create(backend, model, recipe)) {
                for (int epoch = 1; epoch <= recipe.epochs(); epoch++) {
                    long t0 = System.nanoTime();
                    double loss = trainEpoch(model, tape, ops, optimizer, schedule, seed, epoch);
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    DevScores scores = evaluate(predictor, model);
                    double score = Metrics.selection(task, scores.metrics().values().iterator().next());
                    epochs.add(new EpochRecord(epoch, loss, scores.metrics(), score, seconds, train.size() / seconds,
                            schedule.lr(Math.max(0, optimizer.steps() - 1))));
                    boolean better = bestEpoch == 0 || score > epochs.get(bestEpoch - 1).score();
                    log.printf("epoch %d/%d  loss %.4f  dev %s  %.1f s (%.0f ex/s)%s%n", epoch, recipe.epochs(), loss,
                            scores.describe(), seconds, train.size() / seconds, better ? "  best so far" : "");
                    if (better) {
                        bestEpoch = epoch;
                        bestLogits = scores.logits();
                        ClassifierFolder.save(model, task, job.location().vocab(), job.tokenizer(), dir.resolve(BEST));
                        DevPredictions.write(dir, task, job.data().dev(), scores.logits());
                    }
                    double elapsed = (System.nanoTime() - start) / 1e9;
                    RunReport.write(dir, config, seed, epochs, bestEpoch, elapsed, epoch == recipe.epochs());
                    curvesProblem = drawCurves(epochs, task, seed, dir, curvesProblem);
                }
            }
            EpochRecord best = epochs.get(bestEpoch - 1);
            return new RunResult(seed, bestEpoch, best.score(), best.dev(), List.copyOf(epochs), dir.resolve(BEST),
                    bestLogits, (System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * curves.png is a convenience: where it cannot be drawn (no AWT in a jlink runtime, no XChart on
     * the class path, a full disk) the run goes on, says so once, and metrics.json holds every value.
     */
    private String drawCurves(List<EpochRecord> epochs, GlueTask task, long seed, Path dir, String earlierProblem) {
        if (earlierProblem != null) return earlierProblem;
        try {
            FinetuneCurves.draw(epochs, task.dirName() + " fine-tuning, seed " + seed, task.selectionMetric().key(), dir);
            return null;
        } catch (IOException | RuntimeException | LinkageError e) {
            log.println("curves.png not drawn, fine-tuning goes on (" + e + "); metrics.json holds every value");
            return e.toString();
        }
    }

    /** Logits and metrics of every dev split, in the task's split order. */
    private record DevScores(List<float[][]> logits, Map<String, Map<String, Double>> metrics) {
        String describe() {
            StringBuilder sb = new StringBuilder();
            metrics.forEach((split, m) -> m.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ")
                    .append(metrics.size() > 1 ? split + " " : "").append(k).append(String.format(Locale.ROOT, " %.4f", v))));
            return sb.toString();
        }
    }

    private DevScores evaluate(Predictor predictor, ElectraClassifier model) {
        List<float[][]> logits = new ArrayList<>();
        Map<String, Map<String, Double>> metrics = new LinkedHashMap<>();
        for (DevSet d : job.data().dev()) {
            float[][] l = predictor.logits(model, d.encoded());
            logits.add(l);
            metrics.put(d.split().name(), Scoring.metrics(job.task(), l, d.encoded()));
        }
        return new DevScores(List.copyOf(logits), metrics);
    }

    /** One pass over the training examples in a fresh order; returns the mean loss per example. */
    private double trainEpoch(ElectraClassifier model, Tape tape, Ops ops, AdamW optimizer, LrSchedule schedule,
                              long seed, int epoch) {
        Backend backend = tape.backend();
        List<EncodedExample> train = job.data().train();
        int n = train.size(), batch = job.recipe().batch();
        boolean regression = job.task().isRegression();
        int[] order = shuffled(n, seed, epoch);
        double lossSum = 0;
        try (EpochProgress progress = new EpochProgress(log, epoch, job.recipe().epochs(), n, job.options().progressBar())) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                ops.setTraining(true);
                ops.setRng(seed, optimizer.steps());
                Batch b = Batch.upload(backend, train, order, from, to, model.config.maxPositionEmbeddings,
                        regression ? Batch.Targets.SCORES : Batch.Targets.LABELS);
                Var logits = model.logits(ops, b.inputs(), b.clsRows());
                Var loss = regression ? ops.mse(ops.view(logits, b.size()), b.scores()) : ops.crossEntropy(logits, b.labels());
                tape.backward(loss);
                double value = backend.downloadFloat(loss.value())[0];
                if (!Double.isFinite(value)) {
                    throw new IllegalStateException("epoch " + epoch + ", step " + optimizer.steps() + ": training loss is "
                            + value + "; try a lower --lr");
                }
                optimizer.step(schedule);
                tape.reset();
                backend.resetArena();
                lossSum += value * (to - from);
                progress.update(to, lossSum / to);
            }
        }
        return lossSum / n;
    }

    /** The epoch's order: a Fisher-Yates shuffle from (seed, epoch), the same on every run. */
    static int[] shuffled(int n, long seed, int epoch) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
