package io.electra.engine.nn;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The persistent bf16 weight copies of a mixed-precision model: every {@link Linear} weight in a
 * module tree (a module shared by two parents counted once). Tied GEMM weights that are not a
 * Linear's (ELECTRA's output projection reuses the word embeddings) are enabled by their owner.
 */
public final class Bf16Copies {
    private Bf16Copies() {
    }

    /** Gives each Linear weight under {@code root} a bf16 copy, made now; returns those weights. */
    public static List<Parameter> enableLinearWeights(Module root) {
        List<Parameter> out = new ArrayList<>();
        collect(root, new IdentityHashMap<>(), out);
        for (Parameter p : out) p.enableBf16Copy();
        return out;
    }

    /** Frees every bf16 copy of the parameters under {@code root}. */
    public static void disableAll(Module root) {
        for (Parameter p : root.parameters()) p.disableBf16Copy();
    }

    private static void collect(Module m, Map<Module, Boolean> seen, List<Parameter> out) {
        if (seen.put(m, Boolean.TRUE) != null) return;
        if (m instanceof Linear l) out.add(l.weight);
        for (Module child : m.children().values()) collect(child, seen, out);
    }
}
