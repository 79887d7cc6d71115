package io.electra.engine.autograd;

import io.electra.engine.DType;
import io.electra.engine.Tensor;

/**
 * A value on the tape: the tensor an op produced and, once backward has reached it, its gradient.
 * Activations get their gradient from the step arena; {@link io.electra.engine.nn.Parameter}s keep a
 * persistent one that accumulates across micro-batches until the optimizer zeroes it.
 */
public class Var {
    protected final Tensor value;
    protected Tensor grad;
    private final boolean requiresGrad;
    private final DType gradType;

    public Var(Tensor value, boolean requiresGrad) {
        this(value, requiresGrad, value.dtype());
    }

    /**
     * A value whose gradient has another dtype: a BF16 activation that only GEMMs read (the
     * feed-forward's GELU output in mixed precision) keeps an F32 gradient, as if it had stayed F32.
     */
    public Var(Tensor value, boolean requiresGrad, DType gradType) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.gradType = gradType;
    }

    /** The dtype of this value's gradient buffer (the value's own unless the constructor said otherwise). */
    public DType gradType() {
        return gradType;
    }

    public Tensor value() {
        return value;
    }

    /** The gradient, or null when nothing has flowed into it this step. */
    public Tensor grad() {
        return grad;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Forgets an arena gradient at the end of a step (parameters override this to keep theirs). */
    protected void clearStepGrad() {
        grad = null;
    }

    protected void setGrad(Tensor g) {
        grad = g;
    }

    /**
     * True for a value that outlives the step (a parameter, which the optimizer changes in place),
     * so nothing derived from it may be remembered past the op that reads it.
     */
    public boolean persistent() {
        return false;
    }

    /**
     * A persistent BF16 copy of this value that mixed-precision GEMMs read instead of rounding the
     * value each time, or null (parameters override this when they keep one).
     */
    public Tensor bf16Copy() {
        return null;
    }

    public int[] shape() {
        return value.shape();
    }

    @Override
    public String toString() {
        return "Var(" + value.describe() + ")";
    }
}
