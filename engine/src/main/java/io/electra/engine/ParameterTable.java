package io.electra.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A fixed set of parameters with their gradients, Adam moments, optional bf16 weight copies, weight
 * decays and hyper rows, for the multi-tensor optimizer methods of {@link Backend}
 * ({@link Backend#gradSumSquares}, {@link Backend#adamwStepAll}). Built once by
 * {@link Backend#parameterTable} (parameters do not move), then every step uses it as a whole: the
 * CUDA backend uploads a device table here, so a step is a few launches instead of a few per tensor.
 *
 * <p>Tensor i of every list belongs to parameter i: param, grad, m, v share one shape and dtype; a
 * bf16 copy (BF16, param's shape, param F32) or null. {@code hyperRow[i]} is the row of the step's
 * {@code hyper} [3 * G] (bc1, bc2, lr per group) that parameter i uses.
 *
 * <p>Close it before freeing its tensors: it frees what the backend built for it (on the CPU,
 * nothing), never the tensors themselves.
 */
public class ParameterTable implements AutoCloseable {
    private final List<Tensor> params, grads, m, v;   // per parameter, its shape
    private final List<Tensor> bf16Copies;            // per parameter: BF16, its shape, or null
    private final float[] weightDecay;                // [T]
    private final int[] hyperRow;                     // [T] row of hyper, in [0, groups)
    private final int groups;

    /** Checks that the lists line up (counts, shapes, dtypes); copies them. */
    public ParameterTable(List<Tensor> params, List<Tensor> grads, List<Tensor> m, List<Tensor> v, List<Tensor> bf16Copies,
                          float[] weightDecay, int[] hyperRow) {
        int t = params.size();
        if (grads.size() != t || m.size() != t || v.size() != t || bf16Copies.size() != t || weightDecay.length != t
                || hyperRow.length != t) {
            throw new IllegalArgumentException("parameter table: params, grads, m, v, bf16Copies, weightDecay and hyperRow "
                    + "must list " + t + " entries each, got " + grads.size() + ", " + m.size() + ", " + v.size() + ", "
                    + bf16Copies.size() + ", " + weightDecay.length + ", " + hyperRow.length);
        }
        int maxRow = -1;
        for (int i = 0; i < t; i++) {
            Tensor p = params.get(i), g = grads.get(i), mi = m.get(i), vi = v.get(i), copy = bf16Copies.get(i);
            if (p == null || g == null || mi == null || vi == null) {
                throw new IllegalArgumentException("parameter table entry " + i + ": only bf16Copies may hold null");
            }
            if (!g.sameShape(p) || !mi.sameShape(p) || !vi.sameShape(p) || (copy != null && !copy.sameShape(p))) {
                throw new IllegalArgumentException("parameter table entry " + i + ": param " + p.describe() + ", grad "
                        + g.describe() + ", m " + mi.describe() + ", v " + vi.describe()
                        + (copy == null ? "" : ", bf16 copy " + copy.describe()) + " must have one shape");
            }
            if (g.dtype() != p.dtype() || mi.dtype() != p.dtype() || vi.dtype() != p.dtype()) {
                throw new IllegalArgumentException("parameter table entry " + i + ": grad " + g.describe() + ", m "
                        + mi.describe() + ", v " + vi.describe() + " must have param's dtype " + p.describe());
            }
            if (copy != null && (copy.dtype() != DType.BF16 || p.dtype() != DType.F32)) {
                throw new IllegalArgumentException("parameter table entry " + i + ": a bf16 copy " + copy.describe()
                        + " must be BF16 and its param " + p.describe() + " F32");
            }
            if (hyperRow[i] < 0) throw new IllegalArgumentException("parameter table entry " + i + ": hyper row " + hyperRow[i]);
            maxRow = Math.max(maxRow, hyperRow[i]);
        }
        this.params = List.copyOf(params);
        this.grads = List.copyOf(grads);
        this.m = List.copyOf(m);
        this.v = List.copyOf(v);
        this.bf16Copies = Collections.unmodifiableList(new ArrayList<>(bf16Copies));
        this.weightDecay = weightDecay.clone();
        this.hyperRow = hyperRow.clone();
        this.groups = maxRow + 1;
    }

    /** The number of parameters. */
    public int size() {
        return params.size();
    }

    public List<Tensor> params() {
        return params;
    }

    public List<Tensor> grads() {
        return grads;
    }

    public List<Tensor> m() {
        return m;
    }

    public List<Tensor> v() {
        return v;
    }

    /** Per parameter its BF16 weight copy, or null (no copy to refresh). */
    public List<Tensor> bf16Copies() {
        return bf16Copies;
    }

    public float weightDecay(int i) {
        return weightDecay[i];
    }

    public int hyperRow(int i) {
        return hyperRow[i];
    }

    /** 1 + the largest hyper row (0 for an empty table): a step's {@code hyper} needs at least 3 * groups floats. */
    public int groups() {
        return groups;
    }

    /**
     * Checks a step's {@code hyper} against the rows this table uses: [3 * G] (or (G, 3)) with
     * G >= {@link #groups()}. Throws {@link IllegalArgumentException} naming the tensor.
     */
    public void checkHyper(Tensor hyper) {
        if (hyper.size() % 3 != 0 || hyper.size() < 3L * Math.max(1, groups)) {
            throw new IllegalArgumentException("hyper " + hyper.describe() + " must hold (bc1, bc2, lr) for each of "
                    + Math.max(1, groups) + " groups: [3 * G] floats");
        }
    }

    /** Frees what the backend built for this table (nothing here); the tensors stay. */
    @Override
    public void close() {
    }
}
