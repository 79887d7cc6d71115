package io.electra.engine.cpu;

/**
 * Single-precision matmul C[M,N] (=|+=) alpha * op(A)[M,K] op(B)[K,N] on raw arrays.
 * Stage one: row-parallel i-p-j loops (the JIT vectorises the inner j loop).
 */
final class MatmulF32 {
    /** Whether the Vector API kernel runs; {@code -Delectra.cpu.vector=false} selects the scalar twin. */
    static final boolean VECTOR_DEFAULT = !"false".equals(System.getProperty("electra.cpu.vector"));
    private final Parallel parallel;
    private final boolean vector;

    MatmulF32(Parallel parallel, boolean vector) {
        this.parallel = parallel;
        this.vector = vector;
    }

    void multiply(float[] a, int ao, boolean transA, float[] b, int bo, boolean transB, float[] c, int co,
                  int m, int n, int k, float alpha, boolean accumulate) {
        parallel.parallelFor(m, 2L * n * k, (i0, i1) -> {
            float[] row = new float[n];
            for (int i = i0; i < i1; i++) {
                java.util.Arrays.fill(row, 0);
                for (int p = 0; p < k; p++) {
                    float aip = transA ? a[ao + p * m + i] : a[ao + i * k + p];
                    if (transB) for (int j = 0; j < n; j++) row[j] += aip * b[bo + j * k + p];
                    else for (int j = 0; j < n; j++) row[j] += aip * b[bo + p * n + j];
                }
                for (int j = 0; j < n; j++) c[co + i * n + j] = alpha * row[j] + (accumulate ? c[co + i * n + j] : 0);
            }
        });
    }
}
