package io.electra.engine.nn;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;

import java.util.ArrayList;
import java.util.List;

/**
 * Linear layers that read the same input, run as one: y[N, P*out] = x W^T + b with the P weights
 * [out, in] stacked into W [P*out, in] and the biases into b [P*out] ({@link ParameterStack}s), so
 * that a GPU makes one GEMM each way and reads x once. Each part is a child {@link Linear} under its own
 * name (HF's {@code attention.self.query}, {@code .key}, {@code .value}) whose parameters are rows of
 * the stacks: checkpoints, optimizers and bf16 copies see P separate linear layers.
 *
 * <p>Part p's output is y's p-th block of {@code out} columns, each the same dot product as the part's
 * own forward. In the backward, x's gradient sums over P*out in one GEMM instead of P sums added,
 * which changes its rounding only.
 */
public final class StackedLinear extends Module {
    public final ParameterStack weight;  // (P*out, in)
    public final ParameterStack bias;    // (P*out), or null
    private final List<Linear> parts = new ArrayList<>();

    public StackedLinear(Backend backend, int in, int out, boolean withBias, String... names) {
        this(backend, DType.F32, in, out, withBias, names);
    }

    /** F64 stacks exist for gradient checks on the CPU. */
    public StackedLinear(Backend backend, DType dtype, int in, int out, boolean withBias, String... names) {
        super(backend, dtype);
        List<String> weights = new ArrayList<>(), biases = new ArrayList<>();
        for (String n : names) {
            weights.add(n + ".weight");
            biases.add(n + ".bias");
        }
        weight = new ParameterStack(backend, dtype, String.join("+", names) + ".weight", true, weights, out, in);
        bias = withBias ? new ParameterStack(backend, dtype, String.join("+", names) + ".bias", false, biases, out) : null;
        for (int p = 0; p < names.length; p++) {
            parts.add(child(names[p], new Linear(weight.parts().get(p), bias == null ? null : bias.parts().get(p))));
        }
    }

    /** y[N, P*out] for x[N, in] (any leading shape): every part's output, side by side. */
    public Var forward(Ops ops, Var x) {
        return ops.linear(x, weight, bias);
    }

    /** The parts, in column order. */
    public List<Linear> parts() {
        return List.copyOf(parts);
    }
}
