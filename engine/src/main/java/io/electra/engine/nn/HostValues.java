package io.electra.engine.nn;

import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;

/** Uploads host values into a floating tensor of any dtype, converting on the host. */
final class HostValues {
    private HostValues() {
    }

    static void upload(Tensor t, double[] values) {
        switch (t.dtype()) {
            case F64 -> t.backend().upload(t, values);
            case F32 -> {
                float[] f = new float[values.length];
                for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
                t.backend().upload(t, f);
            }
            case BF16 -> {
                short[] b = new short[values.length];
                for (int i = 0; i < b.length; i++) b[i] = HalfFloats.floatToBf16((float) values[i]);
                t.backend().upload(t, b);
            }
            case I32 -> throw new IllegalArgumentException(t.describe() + " is not a floating tensor");
        }
    }

    static void upload(Tensor t, float[] values) {
        switch (t.dtype()) {
            case F32 -> t.backend().upload(t, values);
            case F64 -> {
                double[] d = new double[values.length];
                for (int i = 0; i < d.length; i++) d[i] = values[i];
                t.backend().upload(t, d);
            }
            case BF16 -> {
                short[] b = new short[values.length];
                for (int i = 0; i < b.length; i++) b[i] = HalfFloats.floatToBf16(values[i]);
                t.backend().upload(t, b);
            }
            case I32 -> throw new IllegalArgumentException(t.describe() + " is not a floating tensor");
        }
    }
}
