package io.electra.engine.cpu;

import io.electra.engine.Tensor;

/**
 * Reads and writes a float tensor's elements (F32 {@code float[]} or F64 {@code double[]}; for
 * {@link #load}, {@link #store} and {@link #addTo} also BF16 {@code short[]}, rounded to nearest even
 * on the way in) as doubles, honouring the tensor's offset. Kernels load a row (or a chunk) into a {@link Scratch}
 * row, compute in double and store the result, so each kernel is written once for both dtypes;
 * the bulk loops below are monomorphic and vectorised by the JIT, which keeps F32 fast.
 */
final class Elements {
    private Elements() {
    }

    /** dst[dstOff + i] = t[from + i] for i in [0, n). */
    static void load(Tensor t, long from, double[] dst, int dstOff, int n) {
        int base = index(t, from);
        if (t.storage() instanceof float[] s) {
            for (int i = 0; i < n; i++) dst[dstOff + i] = s[base + i];
        } else if (t.storage() instanceof short[] s) {
            for (int i = 0; i < n; i++) dst[dstOff + i] = CpuStorage.fromBf16(s[base + i]);
        } else {
            System.arraycopy((double[]) t.storage(), base, dst, dstOff, n);
        }
    }

    /** t[from + i] = src[srcOff + i] for i in [0, n). */
    static void store(Tensor t, long from, double[] src, int srcOff, int n) {
        int base = index(t, from);
        if (t.storage() instanceof float[] s) {
            for (int i = 0; i < n; i++) s[base + i] = (float) src[srcOff + i];
        } else if (t.storage() instanceof short[] s) {
            for (int i = 0; i < n; i++) s[base + i] = CpuStorage.toBf16((float) src[srcOff + i]);
        } else {
            System.arraycopy(src, srcOff, (double[]) t.storage(), base, n);
        }
    }

    /** t[from + i] += src[srcOff + i] for i in [0, n): the accumulate of every backward kernel. */
    static void addTo(Tensor t, long from, double[] src, int srcOff, int n) {
        int base = index(t, from);
        if (t.storage() instanceof float[] s) {
            for (int i = 0; i < n; i++) s[base + i] += (float) src[srcOff + i];
        } else if (t.storage() instanceof short[] s) {  // the f32 sum, rounded once (as the CUDA kernels do)
            for (int i = 0; i < n; i++) s[base + i] = CpuStorage.toBf16(CpuStorage.fromBf16(s[base + i]) + (float) src[srcOff + i]);
        } else {
            double[] d = (double[]) t.storage();
            for (int i = 0; i < n; i++) d[base + i] += src[srcOff + i];
        }
    }

    static double get(Tensor t, long i) {
        int k = index(t, i);
        return t.storage() instanceof float[] s ? s[k] : ((double[]) t.storage())[k];
    }

    static void set(Tensor t, long i, double v) {
        int k = index(t, i);
        if (t.storage() instanceof float[] s) s[k] = (float) v;
        else ((double[]) t.storage())[k] = v;
    }

    static void add(Tensor t, long i, double v) {
        int k = index(t, i);
        if (t.storage() instanceof float[] s) s[k] += (float) v;
        else ((double[]) t.storage())[k] += v;
    }

    /** The I32 tensor's element {@code i}. */
    static int getInt(Tensor t, long i) {
        return ((int[]) t.storage())[index(t, i)];
    }

    static void setInt(Tensor t, long i, int v) {
        ((int[]) t.storage())[index(t, i)] = v;
    }

    /** Position of element {@code i} of {@code t} in its storage array. */
    static int index(Tensor t, long i) {
        return (int) (t.offset() + i);
    }
}
