package io.electra.engine.autograd;

import io.electra.engine.Backend;
import io.electra.engine.Tensor;

import java.util.ArrayList;
import java.util.IdentityHashMap;

/**
 * The autograd tape: ops record a backward closure in execution order while gradients are on, and
 * {@link #backward} replays them in reverse. No graph search is needed: execution order is already
 * a topological order. Every backward accumulates ({@code +=}) into its inputs' gradients, so a value
 * used twice (tied embeddings, residual branches) receives both contributions.
 *
 * <p>Gradients of activations live in the backend's step arena and are dropped by {@link #reset};
 * the lists themselves keep their capacity, so a warm step grows nothing.
 */
public final class Tape {
    private final Backend backend;
    private final ArrayList<Runnable> nodes = new ArrayList<>();
    private final ArrayList<Var> withStepGrad = new ArrayList<>();
    private final IdentityHashMap<Var, Tensor> roundedBf16 = new IdentityHashMap<>();  // this step's bf16 roundings of activations
    private int noGradDepth;

    public Tape(Backend backend) {
        this.backend = backend;
    }

    public Backend backend() {
        return backend;
    }

    /** True while ops should record their backward. */
    public boolean recording() {
        return noGradDepth == 0;
    }

    /** A scope in which ops record nothing (evaluation, sampling): {@code try (var s = tape.noGrad()) {...}}. */
    public Scope noGrad() {
        noGradDepth++;
        return () -> noGradDepth--;
    }

    /** Whether an op with these inputs must record a node. */
    public boolean needsGrad(Var... inputs) {
        if (!recording()) return false;
        for (Var v : inputs) if (v != null && v.requiresGrad()) return true;
        return false;
    }

    void record(Runnable backward) {
        nodes.add(backward);
    }

    /** The gradient buffer of {@code v}, created zero-filled in the arena on first use this step. */
    public Tensor gradOf(Var v) {
        Tensor g = v.grad();
        if (g == null) {
            Tensor value = v.value();
            g = backend.allocateTemp(v.gradType(), value.shape());
            v.setGrad(g);
            withStepGrad.add(v);
        }
        return g;
    }

    /**
     * The gradient buffer of {@code v} for a backward kernel that writes every element of it. When
     * {@code v} had no gradient yet ({@code v.grad() == null} before the call) this is a new buffer
     * left unfilled, which the caller must overwrite; otherwise it is the existing buffer, which the
     * caller must add into. Saves the zero-fill and the read of zeros that {@link #gradOf} plus an
     * accumulating kernel cost for a first contribution.
     */
    public Tensor gradForWrite(Var v) {
        Tensor g = v.grad();
        if (g != null) return g;
        Tensor value = v.value();
        g = backend.allocateTempUnfilled(v.gradType(), value.shape());
        v.setGrad(g);
        withStepGrad.add(v);
        return g;
    }

    /** d loss / d loss = 1, then every recorded node in reverse order. */
    public void backward(Var loss) {
        if (loss.value().size() != 1) {
            throw new IllegalArgumentException("backward needs a scalar loss, got " + loss.value().describe());
        }
        backend.fill(gradOf(loss), 1.0);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).run();
        }
    }

    /** The BF16 rounding of activation {@code v} an op already made this step, or null. */
    Tensor roundedBf16(Var v) {
        return roundedBf16.get(v);
    }

    /** Remembers {@code v}'s BF16 rounding (an arena tensor) until {@link #reset}; parameters are never remembered. */
    void rememberRoundedBf16(Var v, Tensor rounded) {
        if (!v.persistent()) roundedBf16.put(v, rounded);
    }

    /** Number of nodes recorded this step. */
    public int size() {
        return nodes.size();
    }

    /** Forgets this step's nodes and activation gradients (parameters keep theirs). */
    public void reset() {
        nodes.clear();
        for (Var v : withStepGrad) v.clearStepGrad();
        withStepGrad.clear();
        roundedBf16.clear();
    }

    /** A scope that ends without checked exceptions. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
