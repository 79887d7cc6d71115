package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Var;

import java.util.ArrayList;
import java.util.List;

/**
 * Parameters of one shape stacked along the leading axis in shared storage, so that one op reads them
 * as one tensor (the attention's query, key and value weights [3C, C] in one GEMM) while each stays a
 * {@link Parameter} with its own name, in checkpoints and optimizer groups alike. The stack owns one
 * value, one gradient and, while every part has one, one bf16 copy; each part's tensors are its rows
 * of them (views, no copies), so whatever writes a part (a loader, AdamW) writes the stack.
 *
 * <p>As a {@link Var} the stack is the whole tensor: an op adds its gradient into the parts'
 * gradients. It is never registered in a module: its parts are.
 */
public final class ParameterStack extends Var {
    private final List<Parameter> parts;
    private final int partRows;  // leading rows per part
    private Tensor bf16;         // (parts * rows, ...) while any part has a copy, else null
    private int copies;          // parts holding a view of bf16

    /**
     * A zero-filled stack of {@code names.size()} parts of {@code partShape} each, named as given;
     * {@code decay} applies to every part (see {@link Parameter#decay()}).
     */
    public ParameterStack(Backend backend, DType dtype, String name, boolean decay, List<String> names, int... partShape) {
        super(backend.allocate(dtype, stacked(names.size(), partShape)).named(name), true);
        this.grad = backend.allocate(dtype, value.shape()).named(name + ".grad");
        this.partRows = partShape[0];
        List<Parameter> ps = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            ps.add(new Parameter(this, i, names.get(i), decay, value.rows(i * partRows, partRows),
                    grad.rows(i * partRows, partRows)));
        }
        this.parts = List.copyOf(ps);
    }

    private static int[] stacked(int parts, int[] partShape) {
        if (parts <= 0 || partShape.length == 0) {
            throw new IllegalArgumentException("a parameter stack needs parts (" + parts + ") of rank >= 1");
        }
        int[] s = partShape.clone();
        s[0] = Math.multiplyExact(parts, partShape[0]);
        return s;
    }

    /** The parts, in row order. */
    public List<Parameter> parts() {
        return parts;
    }

    /** The parts' bf16 copies as one tensor while every part has one (each refreshes its own rows), else null. */
    @Override
    public Tensor bf16Copy() {
        return copies == parts.size() ? bf16 : null;
    }

    /** Part {@code part}'s rows of the shared bf16 copy, which comes into being with the first part that asks. */
    Tensor shareBf16Copy(int part) {
        if (bf16 == null) bf16 = value.backend().allocate(DType.BF16, value.shape()).named(value.name() + ".bf16");
        copies++;
        return bf16.rows(part * partRows, partRows);
    }

    /** A part gave its copy up; the shared copy goes with the last one. */
    void releaseBf16Copy() {
        if (--copies == 0) {
            value.backend().free(bf16);
            bf16 = null;
        }
    }

    @Override
    public boolean persistent() {
        return true;
    }

    @Override
    protected void clearStepGrad() {
        // the parts' persistent gradients
    }
}
