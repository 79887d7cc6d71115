package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.model.ElectraInputs;

import java.util.List;

/**
 * One batch of encoded rows in the backend's step arena, padded to the longest row rounded up to a
 * multiple of 8 (so the CPU does not work on padding it does not need, and the GPU's tiles stay
 * aligned), capped at the model's positions. Padding has id 0 and attention mask 0.
 *
 * @param inputs  (B, T) ids, segment ids, positions, mask
 * @param clsRows (B) the [CLS] row of each example in the flattened (B*T) hidden states: b*T
 * @param labels  (B) I32 class indexes, or null for regression and unlabelled batches
 * @param scores  (B) F32 regression targets, or null
 */
public record Batch(ElectraInputs inputs, Tensor clsRows, Tensor labels, Tensor scores) {
    static final int PAD_MULTIPLE = 8;

    public int size() {
        return inputs.batch();
    }

    /**
     * Uploads {@code rows[from..to)} of {@code examples} (indexes into it).
     *
     * @param maxPositions the model's max_position_embeddings
     * @param targets      which target tensor to fill: LABELS, SCORES or NONE
     */
    public static Batch upload(Backend backend, List<EncodedExample> examples, int[] rows, int from, int to,
                               int maxPositions, Targets targets) {
        int b = to - from;
        if (b < 1) throw new IllegalArgumentException("empty batch [" + from + ", " + to + ")");
        int longest = 0;
        for (int i = from; i < to; i++) longest = Math.max(longest, examples.get(rows[i]).length());
        int t = paddedLength(longest, maxPositions);
        int[] ids = new int[b * t], types = new int[b * t], mask = new int[b * t], positions = new int[b * t];
        int[] cls = new int[b], labels = new int[b];
        float[] scores = new float[b];
        for (int r = 0; r < b; r++) {
            EncodedExample e = examples.get(rows[from + r]);
            System.arraycopy(e.ids(), 0, ids, r * t, e.length());
            System.arraycopy(e.types(), 0, types, r * t, e.length());
            for (int j = 0; j < t; j++) positions[r * t + j] = j;
            for (int j = 0; j < e.length(); j++) mask[r * t + j] = 1;
            cls[r] = r * t;
            labels[r] = e.label();
            scores[r] = e.score();
        }
        ElectraInputs in = new ElectraInputs(put(backend, ids, b, t), put(backend, types, b, t),
                put(backend, positions, b, t), put(backend, mask, b, t));
        Tensor clsRows = put(backend, cls, b);
        Tensor labelTensor = null, scoreTensor = null;
        switch (targets) {
            case LABELS -> {
                for (int r = 0; r < b; r++) {
                    if (labels[r] < 0) throw new IllegalArgumentException("row " + rows[from + r] + " has no class label");
                }
                labelTensor = put(backend, labels, b);
            }
            case SCORES -> {
                for (int r = 0; r < b; r++) {
                    if (Float.isNaN(scores[r])) throw new IllegalArgumentException("row " + rows[from + r] + " has no score");
                }
                scoreTensor = backend.allocateTemp(DType.F32, b);
                backend.upload(scoreTensor, scores);
            }
            case NONE -> { }
        }
        return new Batch(in, clsRows, labelTensor, scoreTensor);
    }

    /** The longest row rounded up to a multiple of 8, but never past the model's positions. */
    static int paddedLength(int longest, int maxPositions) {
        if (longest > maxPositions) {
            throw new IllegalArgumentException("a row of " + longest + " tokens exceeds max_position_embeddings " + maxPositions);
        }
        int rounded = (longest + PAD_MULTIPLE - 1) / PAD_MULTIPLE * PAD_MULTIPLE;
        return Math.min(rounded, maxPositions);
    }

    private static Tensor put(Backend backend, int[] data, int... shape) {
        Tensor t = backend.allocateTemp(DType.I32, shape);
        backend.upload(t, data);
        return t;
    }

    /** Which target a batch carries. */
    public enum Targets { LABELS, SCORES, NONE }
}
