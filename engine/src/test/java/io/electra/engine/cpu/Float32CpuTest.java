package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.testing.Approx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * The F32 fast paths against the F64 reference loops (themselves checked by finite differences and
 * hand values), on the same inputs rounded to float, at sizes that are not multiples of the vector
 * width or the matmul blocks. Backward kernels start from random gradients, so an F32 path that
 * overwrote instead of accumulating would fail.
 */
class Float32CpuTest {
    private static final CpuBackend cpu = new CpuBackend(2);
    private static final double ATOL = 2e-5, RTOL = 2e-4;

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** The same values in an F32 and an F64 tensor (the F64 copy holds the float-rounded values). */
    private record Twin(Tensor f32, Tensor f64) {
        static Twin random(Random rnd, double scale, int... shape) {
            Tensor a = cpu.allocate(DType.F32, shape), b = cpu.allocate(DType.F64, shape);
            double[] v = new double[Math.toIntExact(a.size())];
            for (int i = 0; i < v.length; i++) v[i] = scale * rnd.nextGaussian();
            cpu.upload(a, v);
            cpu.upload(b, cpu.downloadDouble(a));
            return new Twin(a, b);
        }

        Tensor of(DType d) {
            return d == DType.F32 ? f32 : f64;
        }

        void assertClose(String what) {
            Approx.assertClose(what, cpu.downloadDouble(f64), cpu.downloadDouble(f32), ATOL, RTOL);
        }
    }

    @Test
    void attentionForwardAndBackwardMatchTheReference() {
        Random rnd = new Random(1);
        int[][] shapes = {{2, 3, 37, 16}, {1, 2, 128, 32}, {3, 1, 5, 1}};
        for (int[] s : shapes) {
            for (float p : new float[]{0f, 0.1f}) {
                int b = s[0], seq = s[2];
                Twin q = Twin.random(rnd, 1, s), k = Twin.random(rnd, 1, s), v = Twin.random(rnd, 1, s);
                Twin dOut = Twin.random(rnd, 1, s), dq = Twin.random(rnd, 1, s), dk = Twin.random(rnd, 1, s);
                Twin dv = Twin.random(rnd, 1, s), out = Twin.random(rnd, 1, s);
                Twin saved = Twin.random(rnd, 1, cpu.attentionSavedShape(b, s[1], seq, s[3]));
                Tensor mask = cpu.allocate(DType.I32, b, seq);
                int[] m = new int[b * seq];
                for (int i = 0; i < m.length; i++) m[i] = i % seq < seq - i / seq * 3 ? 1 : 0; // padded tails
                if (b > 1) for (int j = 0; j < seq; j++) m[seq + j] = 0; // a sequence with no key at all
                cpu.upload(mask, m);
                RngKey key = new RngKey(5, 9, RngKey.DROPOUT_BASE + 2);
                float scale = (float) (1 / Math.sqrt(s[3]));
                for (DType d : new DType[]{DType.F32, DType.F64}) {
                    cpu.attentionForward(out.of(d), saved.of(d), q.of(d), k.of(d), v.of(d), mask, scale, p, key);
                    cpu.attentionBackward(dq.of(d), dk.of(d), dv.of(d), dOut.of(d), q.of(d), k.of(d), v.of(d), mask,
                            saved.of(d), out.of(d), scale, p, key);
                }
                String what = "attention " + java.util.Arrays.toString(s) + " p=" + p;
                out.assertClose(what + " out");
                saved.assertClose(what + " probabilities");
                dq.assertClose(what + " dq");
                dk.assertClose(what + " dk");
                dv.assertClose(what + " dv");
            }
        }
    }
}
