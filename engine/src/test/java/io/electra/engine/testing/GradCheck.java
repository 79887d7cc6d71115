package io.electra.engine.testing;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;

import java.util.Random;
import java.util.function.DoubleSupplier;

/**
 * Central finite differences for checking a backward kernel: perturb one element of an input by
 * +-h, recompute a scalar loss through the backend, and compare (L(x+h) - L(x-h)) / 2h with the
 * analytic gradient. Use F64 tensors: in double, h = 1e-6 leaves a truncation error near 1e-12 and a
 * rounding error near 1e-10, so tolerances of 1e-6 separate a correct backward from a wrong one.
 *
 * <p>The usual loss is {@link #dot}(output, w) with fixed random weights w: its gradient with
 * respect to the output is w, which is what the backward kernel under test receives as dOut.
 */
public final class GradCheck {
    public static final double H = 1e-6;
    public static final double ATOL = 1e-7;
    public static final double RTOL = 1e-6;

    private GradCheck() {
    }

    /** Checks {@code analytic} against central differences of {@code loss} at every element of {@code input}. */
    public static void assertGradient(String what, Backend backend, Tensor input, double[] analytic, DoubleSupplier loss) {
        assertGradient(what, backend, input, analytic, loss, H, ATOL, RTOL);
    }

    public static void assertGradient(String what, Backend backend, Tensor input, double[] analytic, DoubleSupplier loss,
                                      double h, double atol, double rtol) {
        double[] x = backend.downloadDouble(input);
        double[] numeric = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + h;
            backend.upload(input, x);
            double plus = loss.getAsDouble();
            x[i] = saved - h;
            backend.upload(input, x);
            double minus = loss.getAsDouble();
            x[i] = saved;
            backend.upload(input, x);
            numeric[i] = (plus - minus) / (2 * h);
        }
        Approx.assertClose(what + " (analytic vs finite differences, as numeric->expected)", numeric, analytic, atol, rtol);
    }

    /** sum_i t[i] * w[i]: a scalar loss whose gradient with respect to {@code t} is {@code w}. */
    public static double dot(Backend backend, Tensor t, double[] w) {
        double[] v = backend.downloadDouble(t);
        double s = 0;
        for (int i = 0; i < v.length; i++) s += v[i] * w[i];
        return s;
    }

    /** Uniform values in [lo, hi). */
    public static double[] uniform(Random rnd, long n, double lo, double hi) {
        double[] v = new double[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * rnd.nextDouble();
        return v;
    }

    /** A persistent F64 tensor of uniform values in [-1, 1). */
    public static Tensor randomF64(Backend backend, Random rnd, int... shape) {
        Tensor t = backend.allocate(DType.F64, shape);
        backend.upload(t, uniform(rnd, t.size(), -1, 1));
        return t;
    }

    /** A zero F64 tensor shaped like {@code t}, to receive a gradient. */
    public static Tensor zerosLike(Backend backend, Tensor t) {
        return backend.allocate(t.dtype(), t.shape());
    }
}
