package io.electra.engine.nn;

import io.electra.engine.Backend;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node of the model tree: named parameters and named children. Full names are the dotted path
 * from the root ({@code electra.encoder.layer.0.attention.self.query.weight}), which is exactly the
 * HuggingFace state-dict key when the tree mirrors HF's module names.
 */
public abstract class Module {
    private final Backend backend;
    private final LinkedHashMap<String, Parameter> params = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();

    protected Module(Backend backend) {
        this.backend = backend;
    }

    public Backend backend() {
        return backend;
    }

    protected Parameter param(String name, boolean decay, int... shape) {
        Parameter p = new Parameter(backend, name, decay, shape);
        if (params.putIfAbsent(name, p) != null) throw new IllegalStateException("duplicate parameter " + name);
        return p;
    }

    protected <M extends Module> M child(String name, M module) {
        if (children.putIfAbsent(name, module) != null) throw new IllegalStateException("duplicate child " + name);
        return module;
    }

    /** Every parameter under this module by full dotted name, in registration order. */
    public LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        for (var e : params.entrySet()) out.put(prefix + e.getKey(), e.getValue());
        for (var e : children.entrySet()) e.getValue().collect(prefix + e.getKey() + ".", out);
    }

    /** Sets every parameter's full name from this root. */
    public void assignNames(String prefix) {
        for (var e : namedParameters().entrySet()) e.getValue().rename(prefix + e.getKey());
    }
}
