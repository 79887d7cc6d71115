package io.electra.engine.testing;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Parameter;

import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * {@link GradCheck} for a whole F64 computation on the tape: one backward of {@code loss}, then every
 * parameter's gradient against central finite differences of the same loss recomputed without a tape.
 */
public final class TapeGradCheck {
    private TapeGradCheck() {
    }

    /** {@code ops} carries the precision and RNG the loss runs with; {@code what} qualifies the failure. */
    public static void assertGradients(Ops ops, Function<Ops, Var> loss, List<? extends Parameter> params, String what) {
        Tape tape = ops.tape();
        Backend backend = ops.backend();
        for (Parameter p : params) p.zeroGrad();
        tape.backward(loss.apply(ops));
        tape.reset();
        backend.resetArena();
        for (Parameter p : params) {
            GradCheck.assertGradient(p.name() + what, backend, p.value(), backend.downloadDouble(p.grad()), () -> {
                try (var s = tape.noGrad()) {
                    double value = backend.downloadDouble(loss.apply(ops).value())[0];
                    backend.resetArena();
                    return value;
                }
            });
        }
    }

    /** A trainable F64 parameter of uniform values in [-1, 1). */
    public static Parameter randomParameter(Backend backend, Random rnd, String name, int... shape) {
        Parameter p = new Parameter(backend, DType.F64, name, true, shape);
        backend.upload(p.value(), GradCheck.uniform(rnd, p.value().size(), -1, 1));
        return p;
    }
}
