package io.electra.engine.nn;

import io.electra.engine.Backend;

/** A named level of the tree with no parameters of its own (HF's "attention", "encoder", ...). */
public final class Group extends Module {
    public Group(Backend backend) {
        super(backend);
    }

    public <M extends Module> M add(String name, M module) {
        return child(name, module);
    }
}
