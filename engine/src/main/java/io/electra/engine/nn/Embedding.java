package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;

/** A lookup table weight [rows, C]. */
public final class Embedding extends Module {
    public final Parameter weight; // (rows, C)

    public Embedding(Backend backend, int rows, int channels) {
        super(backend);
        weight = param("weight", true, rows, channels);
    }

    /** ids (any shape, I32) to ids.shape + [C]. */
    public Var forward(Ops ops, Tensor ids) {
        return ops.embedding(weight, ids);
    }
}
