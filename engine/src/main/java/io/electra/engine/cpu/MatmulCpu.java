package io.electra.engine.cpu;

import io.electra.engine.Tensor;

import java.util.Arrays;

/**
 * out (=|+=) alpha * op(a) @ op(b), 2-D or batched over axis 0. F32 goes to the cache-blocked
 * kernel ({@link MatmulF32}); F64, used only for gradient checks, takes the plain loop below.
 */
final class MatmulCpu {
    private final Parallel parallel;
    private final MatmulF32 f32;

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
