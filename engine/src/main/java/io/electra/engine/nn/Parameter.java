package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.autograd.Var;

/**
 * A trainable tensor with a persistent gradient buffer. Its name is the full HuggingFace key once
 * the module tree has been built (for example {@code electra.encoder.layer.0.attention.self.query.weight}).
 */
public final class Parameter extends Var {
    private String name;
    private final boolean decay;

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

    public void zeroGrad() {
        value.backend().fill(grad, 0);
    }

    @Override
    protected void clearStepGrad() {
        // the gradient is persistent: it accumulates until the optimizer zeroes it
    }
}
