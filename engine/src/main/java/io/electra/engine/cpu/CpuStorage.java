package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;

import java.util.Arrays;

/**
 * The host arrays behind CPU tensors (F32 {@code float[]}, F64 {@code double[]}, I32 {@code int[]},
 * BF16 {@code short[]} bit patterns) and the copies between them. bf16 is the top half of an IEEE
 * float; converting to it rounds to nearest, ties to even, and keeps NaN a NaN.
 */
final class CpuStorage {
    private CpuStorage() {
    }

    static Object newArray(DType dtype, int n) {
        return switch (dtype) {
            case F32 -> new float[n];
            case F64 -> new double[n];
            case I32 -> new int[n];
            case BF16 -> new short[n];
        };
    }

    static DType dtypeOf(Object storage) {
        if (storage instanceof float[]) return DType.F32;
        if (storage instanceof double[]) return DType.F64;
        if (storage instanceof int[]) return DType.I32;
        if (storage instanceof short[]) return DType.BF16;
        return null;
    }

    static int length(Object storage) {
        if (storage instanceof float[] a) return a.length;
        if (storage instanceof double[] a) return a.length;
        if (storage instanceof int[] a) return a.length;
        return ((short[]) storage).length;
    }

    /** Zeroes elements {@code [from, to)}. */
    static void zero(Object storage, int from, int to) {
        if (storage instanceof float[] a) Arrays.fill(a, from, to, 0f);
        else if (storage instanceof double[] a) Arrays.fill(a, from, to, 0d);
        else if (storage instanceof int[] a) Arrays.fill(a, from, to, 0);
        else Arrays.fill((short[]) storage, from, to, (short) 0);
    }

    /** NaN (ints: Integer.MIN_VALUE) in the first {@code n} elements: the test mode of unfilled arena storage. */
    static void poison(Object storage, int n) {
        if (storage instanceof float[] a) Arrays.fill(a, 0, n, Float.NaN);
        else if (storage instanceof double[] a) Arrays.fill(a, 0, n, Double.NaN);
        else if (storage instanceof int[] a) Arrays.fill(a, 0, n, Integer.MIN_VALUE);
        else Arrays.fill((short[]) storage, 0, n, (short) 0x7fc0);  // bf16 quiet NaN
    }

    /** Round to nearest even; NaN stays a (quiet) NaN rather than rounding into infinity. */
    static short toBf16(float f) {
        return HalfFloats.floatToBf16(f);
    }

    static float fromBf16(short b) {
        return HalfFloats.bf16ToFloat(b);
    }

    static float[] downloadFloat(Tensor t) {
        int n = Math.toIntExact(t.size()), o = Elements.index(t, 0);
        float[] out = new float[n];
        Object s = t.storage();
        if (s instanceof float[] a) System.arraycopy(a, o, out, 0, n);
        else if (s instanceof double[] a) for (int i = 0; i < n; i++) out[i] = (float) a[o + i];
        else if (s instanceof int[] a) for (int i = 0; i < n; i++) out[i] = a[o + i];
        else for (int i = 0; i < n; i++) out[i] = fromBf16(((short[]) s)[o + i]);
        return out;
    }

    static double[] downloadDouble(Tensor t) {
        int n = Math.toIntExact(t.size()), o = Elements.index(t, 0);
        double[] out = new double[n];
        Object s = t.storage();
        if (s instanceof float[] a) for (int i = 0; i < n; i++) out[i] = a[o + i];
        else if (s instanceof double[] a) System.arraycopy(a, o, out, 0, n);
        else if (s instanceof int[] a) for (int i = 0; i < n; i++) out[i] = a[o + i];
        else for (int i = 0; i < n; i++) out[i] = fromBf16(((short[]) s)[o + i]);
        return out;
    }

    static int[] downloadInt(Tensor t) {
        int n = Math.toIntExact(t.size());
        int[] out = new int[n];
        System.arraycopy((int[]) t.storage(), Elements.index(t, 0), out, 0, n);
        return out;
    }

    static void fill(Tensor t, double value) {
        int from = Elements.index(t, 0), to = from + Math.toIntExact(t.size());
        Object s = t.storage();
        if (s instanceof float[] a) Arrays.fill(a, from, to, (float) value);
        else if (s instanceof double[] a) Arrays.fill(a, from, to, value);
        else if (s instanceof int[] a) Arrays.fill(a, from, to, (int) value);
        else Arrays.fill((short[]) s, from, to, toBf16((float) value));
    }

    /**
     * dst = src element by element. Same dtype is a plain copy; float dtypes convert, F64 to BF16
     * going through F32. Overlapping views of one array are safe (System.arraycopy semantics only
     * for equal dtypes, which is the only way two tensors can share an array).
     */
    static void copy(Tensor dst, Tensor src) {
        int n = Math.toIntExact(src.size()), d = Elements.index(dst, 0), o = Elements.index(src, 0);
        Object to = dst.storage(), from = src.storage();
        if (dst.dtype() == src.dtype()) {
            System.arraycopy(from, o, to, d, n);
            return;
        }
        if (to instanceof short[] b) {
            if (from instanceof float[] a) for (int i = 0; i < n; i++) b[d + i] = toBf16(a[o + i]);
            else { double[] a = (double[]) from; for (int i = 0; i < n; i++) b[d + i] = toBf16((float) a[o + i]); }
        } else if (from instanceof short[] b) {
            if (to instanceof float[] a) for (int i = 0; i < n; i++) a[d + i] = fromBf16(b[o + i]);
            else { double[] a = (double[]) to; for (int i = 0; i < n; i++) a[d + i] = fromBf16(b[o + i]); }
        } else if (to instanceof float[] a) {
            double[] s = (double[]) from;
            for (int i = 0; i < n; i++) a[d + i] = (float) s[o + i];
        } else {
            double[] a = (double[]) to;
            float[] s = (float[]) from;
            for (int i = 0; i < n; i++) a[d + i] = s[o + i];
        }
    }
}
