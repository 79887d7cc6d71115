package io.electra.engine.testing;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Var;

import java.util.Random;

/** Random inputs of the op and kernel tests: Gaussian floats, F32 values on a backend, I32 ids. */
public final class TestValues {
    private TestValues() {
    }

    /** n draws of scale * N(0, 1), rounded to float. */
    public static float[] gaussian(Random rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (scale * rnd.nextGaussian());
        return x;
    }

    public static float[] gaussian(Random rnd, int n) {
        return gaussian(rnd, n, 1);
    }

    /** An F32 value of this shape holding {@code values}, trainable when {@code grad}. */
    public static Var value(Backend backend, float[] values, boolean grad, int... shape) {
        Tensor t = backend.allocate(DType.F32, shape);
        backend.upload(t, values);
        return new Var(t, grad);
    }

    /** A trainable F32 value. */
    public static Var trainable(Backend backend, float[] values, int... shape) {
        return value(backend, values, true, shape);
    }

    /** I32 ids drawn uniformly from [0, bound). */
    public static Tensor ids(Backend backend, Random rnd, int bound, int... shape) {
        Tensor t = backend.allocate(DType.I32, shape);
        int[] values = new int[Math.toIntExact(t.size())];
        for (int i = 0; i < values.length; i++) values[i] = rnd.nextInt(bound);
        backend.upload(t, values);
        return t;
    }
}
