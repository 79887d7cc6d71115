package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.testing.Approx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MatmulCpuTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void twoByTwoMatchesHandComputedProduct() {
        // [1 2; 3 4] @ [5 6; 7 8] = [1*5+2*7, 1*6+2*8; 3*5+4*7, 3*6+4*8] = [19 22; 43 50]
        Tensor a = tensor(DType.F32, new int[]{2, 2}, 1, 2, 3, 4);
        Tensor b = tensor(DType.F32, new int[]{2, 2}, 5, 6, 7, 8);
        Tensor c = cpu.allocate(DType.F32, 2, 2);
        cpu.matmul(c, a, false, b, false, 1, false);
        assertArrayEquals(new float[]{19, 22, 43, 50}, cpu.downloadFloat(c));
        // a^T @ b = [1 3; 2 4] @ [5 6; 7 8] = [26 30; 38 44]; times alpha 0.5, added to the previous c
        cpu.matmul(c, a, true, b, false, 0.5f, true);
        assertArrayEquals(new float[]{19 + 13, 22 + 15, 43 + 19, 50 + 22}, cpu.downloadFloat(c));
    }

    @Test
    void allTransposesMatchNaiveTripleLoopAtOddSizes() {
        Random rnd = new Random(1);
        int[][] sizes = {{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {17, 33, 9}, {65, 31, 130}, {3, 300, 257}, {200, 40, 20}, {3, 4100, 5},
                {50, 70, 600}, {40, 300, 600}, {9, 700, 3000}};
        for (DType dtype : new DType[]{DType.F32, DType.F64}) {
            for (int[] s : sizes) {
                for (int t = 0; t < 4; t++) {
                    checkAgainstNaive(rnd, dtype, 1, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, 1.0f, false);
                    checkAgainstNaive(rnd, dtype, 1, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, -0.75f, true);
                }
            }
        }
    }

    @Test
    void batchedMatchesNaivePerBatch() {
        Random rnd = new Random(2);
        for (DType dtype : new DType[]{DType.F32, DType.F64}) {
            for (int t = 0; t < 4; t++) {
                checkAgainstNaive(rnd, dtype, 3, 7, 5, 11, (t & 1) != 0, (t & 2) != 0, 1.5f, t % 2 == 0);
            }
        }
    }

    @Test
    void rowViewsAtAnOffsetAreHonoured() {
        Random rnd = new Random(3);
        Tensor big = random(rnd, DType.F32, 10, 6);
        Tensor a = big.rows(3, 4);        // [4,6] starting at element 18
        Tensor b = random(rnd, DType.F32, 6, 5);
        Tensor outBig = random(rnd, DType.F32, 9, 5);
        Tensor out = outBig.rows(2, 4);
        float[] before = cpu.downloadFloat(outBig);
        cpu.matmul(out, a, false, b, false, 1, false);
        double[] expected = naive(cpu.downloadDouble(a), false, cpu.downloadDouble(b), false, 4, 5, 6);
        Approx.assertClose("view product", expected, cpu.downloadDouble(out), 1e-5, 1e-5);
        float[] after = cpu.downloadFloat(outBig);
        for (int i = 0; i < 45; i++) {
            if (i < 10 || i >= 30) assertArrayEquals(new float[]{before[i]}, new float[]{after[i]}, "row outside view, element " + i);
        }
    }

    @Test
    void vectorAndScalarPathsAgree() {
        Random rnd = new Random(4);
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            int m = 37, n = 71, k = 45;
            Tensor a = random(rnd, DType.F32, ta ? k : m, ta ? m : k);
            Tensor b = random(rnd, DType.F32, tb ? n : k, tb ? k : n);
            float[] av = cpu.downloadFloat(a), bv = cpu.downloadFloat(b);
            float[] vec = new float[m * n], sca = new float[m * n];
            try (Parallel p = new Parallel(2)) {
                new MatmulF32(p, true).multiply(av, 0, ta, bv, 0, tb, vec, 0, m, n, k, 1, false);
                new MatmulF32(p, false).multiply(av, 0, ta, bv, 0, tb, sca, 0, m, n, k, 1, false);
            }
            Approx.assertClose("vector vs scalar, transA " + ta + " transB " + tb, sca, vec, 1e-5, 1e-5);
        }
    }

    /** Threads split the tiles of C, never the sums inside one element: any thread count gives the same bits. */
    @Test
    void productsAreBitIdenticalForAnyThreadCount() {
        Random rnd = new Random(5);
        int[][] sizes = {{304, 64, 3001}, {3001, 64, 304}, {304, 3001, 64}, {128, 128, 32}, {67, 301, 257}};
        for (int[] s : sizes) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int m = s[0], n = s[1], k = s[2];
                float[] a = new float[m * k], b = new float[k * n];
                for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() - 0.5f;
                for (int i = 0; i < b.length; i++) b[i] = rnd.nextFloat() - 0.5f;
                float[] one = new float[m * n], three = new float[m * n];
                try (Parallel p1 = new Parallel(1); Parallel p3 = new Parallel(3)) {
                    new MatmulF32(p1, MatmulF32.VECTOR_DEFAULT).multiply(a, 0, ta, b, 0, tb, one, 0, m, n, k, 0.5f, false);
                    new MatmulF32(p3, MatmulF32.VECTOR_DEFAULT).multiply(a, 0, ta, b, 0, tb, three, 0, m, n, k, 0.5f, false);
                }
                for (int i = 0; i < one.length; i++) {
                    if (Float.floatToRawIntBits(one[i]) != Float.floatToRawIntBits(three[i])) {
                        org.junit.jupiter.api.Assertions.fail(String.format("%dx%dx%d transA %b transB %b element %d: "
                                + "1 thread %s, 3 threads %s", m, n, k, ta, tb, i, one[i], three[i]));
                    }
                }
            }
        }
    }

    @Test
    void mismatchedShapesNameTheTensors() {
        Tensor a = cpu.allocate(DType.F32, 2, 3).named("a");
        Tensor b = cpu.allocate(DType.F32, 4, 5).named("b");
        Tensor c = cpu.allocate(DType.F32, 2, 5).named("c");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.matmul(c, a, false, b, false, 1, false));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("a F32[2, 3]") && e.getMessage().contains("b F32[4, 5]"),
                e.getMessage());
    }

    private static void checkAgainstNaive(Random rnd, DType dtype, int batches, int m, int n, int k, boolean ta,
                                          boolean tb, float alpha, boolean accumulate) {
        int[] aShape = ta ? new int[]{k, m} : new int[]{m, k};
        int[] bShape = tb ? new int[]{n, k} : new int[]{k, n};
        Tensor a = batches == 1 ? random(rnd, dtype, aShape) : random(rnd, dtype, batches, aShape[0], aShape[1]);
        Tensor b = batches == 1 ? random(rnd, dtype, bShape) : random(rnd, dtype, batches, bShape[0], bShape[1]);
        Tensor c = batches == 1 ? random(rnd, dtype, m, n) : random(rnd, dtype, batches, m, n);
        double[] av = cpu.downloadDouble(a), bv = cpu.downloadDouble(b), c0 = cpu.downloadDouble(c);
        cpu.matmul(c, a, ta, b, tb, alpha, accumulate);
        double[] expected = new double[batches * m * n];
        for (int batch = 0; batch < batches; batch++) {
            double[] ab = java.util.Arrays.copyOfRange(av, batch * m * k, (batch + 1) * m * k);
            double[] bb = java.util.Arrays.copyOfRange(bv, batch * k * n, (batch + 1) * k * n);
            double[] p = naive(ab, ta, bb, tb, m, n, k);
            for (int i = 0; i < m * n; i++) {
                expected[batch * m * n + i] = alpha * p[i] + (accumulate ? c0[batch * m * n + i] : 0);
            }
        }
        double tol = dtype == DType.F32 ? 1e-5 * Math.sqrt(k) : 1e-12;
        Approx.assertClose(String.format("%s batches=%d m=%d n=%d k=%d transA=%b transB=%b alpha=%s acc=%b",
                dtype, batches, m, n, k, ta, tb, alpha, accumulate), expected, cpu.downloadDouble(c), tol, tol);
    }

    /** The definition: c[i][j] = sum_p a(i,p) b(p,j). */
    static double[] naive(double[] a, boolean ta, double[] b, boolean tb, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = s;
            }
        }
        return c;
    }

    static Tensor random(Random rnd, DType dtype, int... shape) {
        Tensor t = cpu.allocate(dtype, shape);
        double[] v = new double[Math.toIntExact(t.size())];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextDouble() * 2 - 1;
        cpu.upload(t, v);
        return t;
    }

    static Tensor tensor(DType dtype, int[] shape, double... values) {
        Tensor t = cpu.allocate(dtype, shape);
        cpu.upload(t, values);
        return t;
    }
}
