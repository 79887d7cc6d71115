package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;

/** y = x W^T + b with HF's layout: weight [out, in], bias [out]. */
public final class Linear extends Module {
    public final Parameter weight; // (out, in)
    public final Parameter bias;   // (out), or null

    public Linear(Backend backend, int in, int out, boolean withBias) {
        super(backend);
        weight = param("weight", true, out, in);
        bias = withBias ? param("bias", false, out) : null;
    }

    /** A linear layer over parameters made elsewhere (parts of a {@link StackedLinear}'s stacks). */
    Linear(Parameter weight, Parameter bias) {
        super(weight.value().backend(), weight.value().dtype());
        this.weight = adopt("weight", weight);
        this.bias = bias == null ? null : adopt("bias", bias);
    }

    public Var forward(Ops ops, Var x) {
        return ops.linear(x, weight, bias);
    }

    /** gelu(forward(x)) as one op (the backend may fuse bias and GELU into the product). */
    public Var forwardGelu(Ops ops, Var x) {
        return ops.linearGelu(x, weight, bias);
    }

    public int in() {
        return weight.value().dim(1);
    }

    public int out() {
        return weight.value().dim(0);
    }
}
