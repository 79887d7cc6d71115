package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.DType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node of the model tree: named parameters and named child modules. Full names join the path with
 * dots ({@code electra.encoder.layer.0.attention.self.query.weight}), listing a module's own parameters
 * before its children's, each in registration order: the order of a PyTorch state dict.
 *
 * <p>A module may appear under several parents (ELECTRA's generator shares the discriminator's
 * embeddings) and a parameter under several names ({@link #tie}, for tied output weights); such a
 * parameter is listed under every name by {@link #namedParameters()} and once by {@link #parameters()}.
 */
public abstract class Module {
    private final Backend backend; // null for pure containers, which create no parameters
    private final DType dtype;
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();

    /** A module whose parameters are F32 tensors of {@code backend}. */
    protected Module(Backend backend) {
        this(backend, DType.F32);
    }

    /** F64 modules exist for gradient checks on the CPU. */
    protected Module(Backend backend, DType dtype) {
        this.backend = backend;
        this.dtype = dtype;
    }

    /** A container that only holds children (see {@link ModuleList}). */
    protected Module() {
        this(null, DType.F32);
    }

    protected final Backend backend() {
        return backend;
    }

    protected final DType dtype() {
        return dtype;
    }

    /**
     * Creates, registers and returns a zero-filled parameter.
     *
     * @param decay whether AdamW's weight decay applies (false for biases and LayerNorm weights)
     */
    protected final Parameter param(String name, boolean decay, int... shape) {
        if (backend == null) throw new IllegalStateException(getClass().getSimpleName() + " has no backend for '" + name + "'");
        checkNewName(name);
        Parameter p = new Parameter(backend, dtype, name, decay, shape);
        params.put(name, p);
        return p;
    }

    /** Registers a parameter made elsewhere (a part of a {@link ParameterStack}) under {@code name}; returns it. */
    protected final Parameter adopt(String name, Parameter p) {
        checkNewName(name);
        params.put(name, p);
        return p;
    }

    /** Registers an existing parameter under another name here (a tied weight); returns it. */
    protected final Parameter tie(String name, Parameter existing) {
        checkNewName(name);
        params.put(name, existing);
        return existing;
    }

    /** Registers a child module under {@code name}; returns it. */
    protected final <M extends Module> M child(String name, M module) {
        checkNewName(name);
        if (module == this) throw new IllegalArgumentException("a module cannot be its own child: '" + name + "'");
        children.put(name, module);
        return module;
    }

    private void checkNewName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("invalid name '" + name + "' in " + getClass().getSimpleName()
                    + " (non-empty, no dots)");
        }
        if (params.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("name '" + name + "' registered twice in " + getClass().getSimpleName());
        }
    }

    /** Every parameter under its full dotted name relative to this module, in state-dict order. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        params.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    /** Each distinct parameter once (shared and tied ones under their first name), in state-dict order. */
    public final List<Parameter> parameters() {
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : namedParameters().values()) {
            if (seen.put(p, Boolean.TRUE) == null) out.add(p);
        }
        return out;
    }

    /** The direct children, in registration order. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /**
     * Sets each parameter's {@link Parameter#name()} to its full name under {@code prefix} (the root
     * calls {@code assignNames("")}). A parameter reachable under several names takes the first.
     */
    public final void assignNames(String prefix) {
        String p = prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".";
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        namedParameters().forEach((name, param) -> {
            if (seen.put(param, Boolean.TRUE) == null) param.rename(p + name);
        });
    }

    /** Zeroes every parameter's gradient. */
    public final void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }

    /** Total number of parameter elements, each distinct parameter counted once. */
    public final long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) n += p.value().size();
        return n;
    }
}
