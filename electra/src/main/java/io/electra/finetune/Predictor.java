package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.model.ElectraClassifier;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Runs a classifier over encoded rows without gradients or dropout and returns the logits in row
 * order. Rows are batched shortest first, so each batch pads to rows of similar length; the order
 * is a stable sort of the lengths, so the same rows always form the same batches and give the same
 * numbers.
 */
public final class Predictor {
    private final Backend backend;
    private final Tape tape;
    private final Ops ops;
    private final int batch;

    public Predictor(Tape tape, Ops ops, int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        this.backend = tape.backend();
        this.tape = tape;
        this.ops = ops;
        this.batch = batch;
    }

    /** Logits (rows, outputs) of {@code model} for every example; leaves the ops in evaluation mode. */
    public float[][] logits(ElectraClassifier model, List<EncodedExample> examples) {
        int n = examples.size();
        int[] order = byLength(examples);
        float[][] out = new float[n][];
        int outputs = model.numLabels();
        ops.setTraining(false);
        try (var s = tape.noGrad()) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                Batch b = Batch.upload(backend, examples, order, from, to, model.config.maxPositionEmbeddings,
                        Batch.Targets.NONE);
                Var logits = model.logits(ops, b.inputs(), b.clsRows());
                float[] flat = backend.downloadFloat(logits.value());
                for (int r = 0; r < to - from; r++) out[order[from + r]] = Arrays.copyOfRange(flat, r * outputs, (r + 1) * outputs);
                tape.reset();
                backend.resetArena();
            }
        }
        return out;
    }

    private static int[] byLength(List<EncodedExample> examples) {
        Integer[] idx = new Integer[examples.size()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, Comparator.comparingInt(i -> examples.get(i).length())); // stable: ties keep row order
        return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }
}
