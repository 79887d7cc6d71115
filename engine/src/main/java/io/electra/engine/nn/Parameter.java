package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Var;

/**
 * A trainable tensor with a persistent gradient buffer. Its name is the full HuggingFace key once
 * the module tree has been built (for example {@code electra.encoder.layer.0.attention.self.query.weight}).
 * A part of a {@link ParameterStack} is rows of the stack's tensors (value, gradient, bf16 copy),
 * and otherwise a parameter like any other.
 */
public final class Parameter extends Var {
    private String name;
    private final boolean decay;
    private final ParameterStack stack;  // whose part this is, or null
    private final int part;
    private Tensor bf16;   // (shape) the master rounded to bf16 for mixed-precision GEMMs, or null

    /**
     * @param decay whether AdamW's weight decay applies (false for LayerNorm weights and all biases,
     *              as ELECTRA's optimizer excludes them)
     */
    public Parameter(Backend backend, String name, boolean decay, int... shape) {
        this(backend, DType.F32, name, decay, shape);
    }

    /** F64 parameters exist for gradient checks on the CPU. */
    public Parameter(Backend backend, DType dtype, String name, boolean decay, int... shape) {
        super(backend.allocate(dtype, shape).named(name), true);
        this.name = name;
        this.decay = decay;
        this.grad = backend.allocate(dtype, shape).named(name + ".grad");
        this.stack = null;
        this.part = -1;
    }

    /** Part {@code part} of {@code stack}: value and grad are its rows of the stack's. */
    Parameter(ParameterStack stack, int part, String name, boolean decay, Tensor value, Tensor grad) {
        super(value.named(name), true);
        this.name = name;
        this.decay = decay;
        this.grad = grad.named(name + ".grad");
        this.stack = stack;
        this.part = part;
    }

    public String name() {
        return name;
    }

    public void rename(String fullName) {
        this.name = fullName;
    }

    public boolean decay() {
        return decay;
    }

    /** The bf16 copy of the weight (null unless {@link #enableBf16Copy} was called). */
    @Override
    public Tensor bf16Copy() {
        return bf16;
    }

    /**
     * Gives this parameter a persistent BF16 copy, made now from the F32 master. Whatever writes the
     * master afterwards must refresh it: AdamW does in its update, loaders call {@link #refreshBf16Copy}.
     * The copy is never saved; checkpoints hold the masters.
     */
    public void enableBf16Copy() {
        if (value.dtype() != DType.F32) throw new IllegalStateException(name + ": a bf16 copy needs an F32 master, got " + value.describe());
        if (bf16 == null) {
            bf16 = stack != null ? stack.shareBf16Copy(part) : value.backend().allocate(DType.BF16, value.shape());
            bf16 = bf16.named(name + ".bf16");
        }
        refreshBf16Copy();
    }

    /** copy = bf16(master), round to nearest even; a no-op without a copy. */
    public void refreshBf16Copy() {
        if (bf16 != null) value.backend().copy(bf16, value);
    }

    /** Frees the bf16 copy, if any (back to fp32). */
    public void disableBf16Copy() {
        if (bf16 == null) return;
        if (stack != null) stack.releaseBf16Copy();
        else value.backend().free(bf16);
        bf16 = null;
    }

    public void zeroGrad() {
        value.backend().fill(grad, 0);
    }

    @Override
    public boolean persistent() {
        return true;
    }

    @Override
    protected void clearStepGrad() {
        // the gradient is persistent: it accumulates until the optimizer zeroes it
    }
}
