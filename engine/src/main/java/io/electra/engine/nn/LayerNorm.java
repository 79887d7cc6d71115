package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;

/** LayerNorm over the last axis; its weight and bias are excluded from weight decay. */
public final class LayerNorm extends Module {
    public final Parameter weight; // (C)
    public final Parameter bias;   // (C)
    private final float eps;

    public LayerNorm(Backend backend, int channels, double eps) {
        super(backend);
        weight = param("weight", false, channels);
        bias = param("bias", false, channels);
        this.eps = (float) eps;
        backend.fill(weight.value(), 1.0);
    }

    public Var forward(Ops ops, Var x) {
        return ops.layerNorm(x, weight, bias, eps);
    }

    /** LayerNorm(dropout(x, p) + residual), fused: the tail of a post-LN block. */
    public Var forwardResidual(Ops ops, Var x, float p, int purpose, Var residual) {
        return ops.dropoutAddLayerNorm(x, residual, p, purpose, weight, bias, eps);
    }
}
