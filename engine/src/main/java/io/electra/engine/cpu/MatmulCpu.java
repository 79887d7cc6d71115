package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;

import java.util.Arrays;

/**
 * out (=|+=) alpha * op(a) @ op(b), 2-D or batched over axis 0. F32 goes to the cache-blocked
 * kernel ({@link MatmulF32}); F64, used only for gradient checks, takes the plain loop below.
 * BF16 a and b (mixed precision, as gemm_tc.cu defines it) widen exactly to f32 and run the F32
 * kernel with f32 accumulation; a BF16 out is read widened when accumulating, and the result
 * {@code alpha * acc (+ old)} is rounded to nearest even once.
 */
final class MatmulCpu {
    private final Parallel parallel;
    private final MatmulF32 f32;
    private static final ThreadLocal<float[][]> WIDENED = ThreadLocal.withInitial(() -> new float[3][0]); // bf16 a, b, out as f32

    MatmulCpu(Parallel parallel) {
        this.parallel = parallel;
        this.f32 = new MatmulF32(parallel, MatmulF32.VECTOR_DEFAULT);
    }

    void matmul(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate) {
        boolean batched = out.rank() == 3;
        int batches = batched ? out.dim(0) : 1;
        int m = out.dim(-2), n = out.dim(-1);
        int k = transA ? a.dim(-2) : a.dim(-1);
        long aSize = (long) m * k, bSize = (long) k * n, cSize = (long) m * n;
        if (a.dtype() == DType.BF16) {
            multiplyBf16(out, a, transA, b, transB, alpha, accumulate, batches, m, n, k);
            return;
        }
        for (int batch = 0; batch < batches; batch++) {
            int ao = Elements.index(a, batch * aSize), bo = Elements.index(b, batch * bSize);
            int co = Elements.index(out, batch * cSize);
            if (out.storage() instanceof float[] c) {
                f32.multiply((float[]) a.storage(), ao, transA, (float[]) b.storage(), bo, transB, c, co,
                        m, n, k, alpha, accumulate);
            } else {
                multiplyF64((double[]) a.storage(), ao, transA, (double[]) b.storage(), bo, transB,
                        (double[]) out.storage(), co, m, n, k, alpha, accumulate);
            }
        }
    }

    /** Widens a, b (and a BF16 out) into float scratch, multiplies in f32, rounds a BF16 out once. */
    private void multiplyBf16(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha,
                              boolean accumulate, int batches, int m, int n, int k) {
        float[] af = widen(a, 0), bf = widen(b, 1);
        boolean roundOut = out.dtype() == DType.BF16;
        float[] cf = roundOut ? (accumulate ? widen(out, 2) : scratch(2, Math.toIntExact(out.size()))) : (float[]) out.storage();
        int cBase = roundOut ? 0 : Elements.index(out, 0);
        long aSize = (long) m * k, bSize = (long) k * n, cSize = (long) m * n;
        for (int batch = 0; batch < batches; batch++) {
            f32.multiply(af, (int) (batch * aSize), transA, bf, (int) (batch * bSize), transB, cf,
                    cBase + (int) (batch * cSize), m, n, k, alpha, accumulate);
        }
        if (roundOut) {
            short[] c = (short[]) out.storage();
            int o = Elements.index(out, 0);
            for (int i = 0; i < out.size(); i++) c[o + i] = HalfFloats.floatToBf16(cf[i]);
        }
    }

    /** The BF16 tensor's elements widened (exactly) into this backend's float scratch {@code slot}. */
    private float[] widen(Tensor t, int slot) {
        int size = Math.toIntExact(t.size()), o = Elements.index(t, 0);
        float[] f = scratch(slot, size);
        short[] s = (short[]) t.storage();
        parallel.parallelFor(size, 1, (i0, i1) -> {
            for (int i = i0; i < i1; i++) f[i] = HalfFloats.bf16ToFloat(s[o + i]);
        });
        return f;
    }

    /** The calling thread's scratch for the widened operands (the F32 kernel's pool threads only read them). */
    private static float[] scratch(int slot, int size) {
        float[][] w = WIDENED.get();
        if (w[slot].length < size) w[slot] = new float[size];
        return w[slot];
    }

    /** The plain definition: each output row is a sum over p of a(i,p) times row p of op(b). */
    private void multiplyF64(double[] a, int ao, boolean transA, double[] b, int bo, boolean transB,
                             double[] c, int co, int m, int n, int k, double alpha, boolean accumulate) {
        parallel.parallelFor(m, 2L * n * k, (i0, i1) -> {
            double[] row = Scratch.get(0, n);
            for (int i = i0; i < i1; i++) {
                Arrays.fill(row, 0, n, 0);
                for (int p = 0; p < k; p++) {
                    double aip = transA ? a[ao + p * m + i] : a[ao + i * k + p];
                    if (transB) for (int j = 0; j < n; j++) row[j] += aip * b[bo + j * k + p];
                    else for (int j = 0; j < n; j++) row[j] += aip * b[bo + p * n + j];
                }
                for (int j = 0; j < n; j++) {
                    c[co + i * n + j] = alpha * row[j] + (accumulate ? c[co + i * n + j] : 0);
                }
            }
        });
    }
}
