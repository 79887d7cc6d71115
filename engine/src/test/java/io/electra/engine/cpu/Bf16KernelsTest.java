package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CPU's mixed-precision kernels against its F32 kernels run on the same bf16-rounded inputs.
 * Same math, so the bounds are what bf16 adds on top of f32: U = 2^-8, the unit roundoff of bf16's
 * 8-bit significand (7 stored bits and the implicit one: values in [1, 2) are 2^-7 apart, so
 * rounding to nearest moves x by at most 2^-8 |x|), once per rounding, plus the roundings
 * the tensor-core kernels make inside (the probabilities before P v, dS before dS k), each bounded
 * element by element from the F32 run's own values. f32 summation differences get GAMMA * sum|terms|.
 */
class Bf16KernelsTest {
    private static final double U = 0x1p-8;
    private static final double GAMMA = 1e-6;      // f32 sums of at most a few hundred terms: K 2^-24 < 1e-5 relative
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void headLayoutChangesConvertByRoundingOnceToNearestEven() {
        Random rnd = new Random(21);
        int b = 2, t = 5, h = 3, d = 4;
        float[] merged = randomFloats(rnd, b * t * h * d), start = randomFloats(rnd, b * t * h * d);
        Tensor x = cpu.allocate(DType.F32, b, t, h * d);
        cpu.upload(x, merged);
        Tensor ref = cpu.allocate(DType.F32, b, h, t, d);
        cpu.splitHeads(ref, x, h, false);
        float[] want = cpu.downloadFloat(ref);
        for (boolean accumulate : new boolean[] {false, true}) {
            // split F32 -> BF16: the F32 split (plus the old value) rounded once
            Tensor heads = cpu.allocate(DType.BF16, b, h, t, d);
            cpu.copy(heads, upload(start, b, h, t, d));
            cpu.splitHeads(heads, x, h, accumulate);
            float[] got = cpu.downloadFloat(heads);
            for (int i = 0; i < want.length; i++) {
                float sum = accumulate ? HalfFloats.roundToBf16(start[i]) + want[i] : want[i];
                assertEquals(HalfFloats.roundToBf16(sum), got[i], 0f, "split to bf16 [" + i + "], accumulate " + accumulate);
            }
            // merge BF16 -> F32: widened exactly (and added in f32)
            Tensor back = upload(start, b, t, h * d);
            cpu.mergeHeads(back, heads, accumulate);
            float[] again = cpu.downloadFloat(back);
            Tensor wide = cpu.allocate(DType.F32, b, h, t, d);
            cpu.copy(wide, heads);
            Tensor mergedRef = upload(start, b, t, h * d);
            cpu.mergeHeads(mergedRef, wide, accumulate);
            float[] mergedWant = cpu.downloadFloat(mergedRef);
            for (int i = 0; i < again.length; i++) assertEquals(mergedWant[i], again[i], 0f, "merge to f32 [" + i + "]");
        }
        Tensor f64 = cpu.allocate(DType.F64, b, h, t, d);
        assertThrows(IllegalArgumentException.class, () -> cpu.splitHeads(f64, x, h, false), "F64 with F32 is refused");
    }

    private static Tensor upload(float[] values, int... shape) {
        Tensor t = cpu.allocate(DType.F32, shape);
        cpu.upload(t, values);
        return t;
    }

    @Test
    void matmulWithBf16InputsEqualsF32MatmulOfRoundedInputs() {
        Random rnd = new Random(3);
        int[][] sizes = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {64, 40, 300}};
        for (int[] s : sizes) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                int m = s[0], n = s[1], k = s[2];
                Tensor a = bf16Random(rnd, ta ? new int[]{k, m} : new int[]{m, k});
                Tensor b = bf16Random(rnd, tb ? new int[]{n, k} : new int[]{k, n});
                Tensor ref = cpu.allocate(DType.F32, m, n), out = cpu.allocate(DType.F32, m, n);
                float[] start = randomFloats(rnd, m * n);
                cpu.upload(ref, start);
                cpu.upload(out, start);
                cpu.matmul(ref, widened(a), ta, widened(b), tb, 0.75f, true);
                cpu.matmul(out, a, ta, b, tb, 0.75f, true);
                double[] bound = sumBound(m, n, k, a, ta, b, tb, 0.75f, start, 0);
                assertWithin("F32 out " + m + "x" + n + "x" + k + " t" + t, cpu.downloadFloat(ref), cpu.downloadFloat(out), bound);

                // BF16 out: the accumulated value (old widened) is rounded once, so one U more
                Tensor refB = cpu.allocate(DType.F32, m, n), outB = cpu.allocate(DType.BF16, m, n);
                cpu.upload(outB, start);
                cpu.copy(refB, outB);
                float[] startRounded = cpu.downloadFloat(refB);
                cpu.matmul(refB, widened(a), ta, widened(b), tb, -1.5f, true);
                cpu.matmul(outB, a, ta, b, tb, -1.5f, true);
                float[] r = cpu.downloadFloat(refB);
                double[] boundB = sumBound(m, n, k, a, ta, b, tb, -1.5f, startRounded, 0);
                for (int i = 0; i < boundB.length; i++) boundB[i] += U * Math.abs(r[i]);
                assertWithin("BF16 out " + m + "x" + n + "x" + k + " t" + t, r, cpu.downloadFloat(outB), boundB);
            }
        }
    }

    @Test
    void matmulRejectsMixedOperandsAndBf16F64Outputs() {
        Tensor a = cpu.allocate(DType.BF16, 2, 3), f = cpu.allocate(DType.F32, 3, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> cpu.matmul(cpu.allocate(DType.F32, 2, 2), a, false, f, false, 1, false));
        assertTrue(e.getMessage().contains("BF16"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> cpu.matmul(cpu.allocate(DType.F64, 2, 2), a, false, cpu.allocate(DType.BF16, 3, 2), false, 1, false));
    }

    @Test
    void attentionForwardWithBf16OperandsIsF32AttentionWithinTheProbabilityRounding() {
        Random rnd = new Random(4);
        for (float p : new float[]{0f, 0.2f}) {
            int bt = 2, h = 3, t = 13, d = 16;
            Tensor q = bf16Random(rnd, bt, h, t, d), k = bf16Random(rnd, bt, h, t, d), v = bf16Random(rnd, bt, h, t, d);
            Tensor mask = keyMask(bt, t);
            RngKey key = new RngKey(9, 1, 77);
            Tensor refOut = cpu.allocate(DType.F32, bt, h, t, d), refSaved = cpu.allocate(DType.F32, bt, h, t, t);
            cpu.attentionForward(refOut, refSaved, widened(q), widened(k), widened(v), mask, 0.25f, p, key);
            Tensor out = cpu.allocate(DType.BF16, bt, h, t, d), saved = cpu.allocate(DType.F32, bt, h, t, t);
            cpu.attentionForward(out, saved, q, k, v, mask, 0.25f, p, key);

            float[] probs = cpu.downloadFloat(refSaved), ref = cpu.downloadFloat(refOut), vs = cpu.downloadFloat(v);
            assertWithin("saved probabilities", probs, cpu.downloadFloat(saved), constant(probs.length, GAMMA));
            // |sum_j (bf16(Pd_ij) - Pd_ij) v_jd| <= U sum_j Pd_ij |v_jd| <= U s sum_j P_ij |v_jd|, then out's own rounding
            double s = 1 / (1 - (double) p);
            double[] bound = new double[ref.length];
            for (int bh = 0; bh < bt * h; bh++) {
                for (int i = 0; i < t; i++) {
                    for (int c = 0; c < d; c++) {
                        double sum = 0;
                        for (int j = 0; j < t; j++) sum += probs[(bh * t + i) * t + j] * Math.abs(vs[(bh * t + j) * d + c]);
                        int at = (bh * t + i) * d + c;
                        bound[at] = U * s * sum + U * Math.abs(ref[at]) + GAMMA;
                    }
                }
            }
            assertWithin("out, p = " + p, ref, cpu.downloadFloat(out), bound);
        }
    }

    @Test
    void attentionBackwardWithBf16OperandsIsF32BackwardWithinTheRoundingsOfDeltaAndDs() {
        Random rnd = new Random(5);
        int bt = 2, h = 2, t = 11, d = 16;
        float scale = 0.25f;
        Tensor q = bf16Random(rnd, bt, h, t, d), k = bf16Random(rnd, bt, h, t, d), v = bf16Random(rnd, bt, h, t, d);
        Tensor g = bf16Random(rnd, bt, h, t, d);
        Tensor mask = keyMask(bt, t);
        int[] shape = {bt, h, t, d};
        Tensor qf = widened(q), kf = widened(k), vf = widened(v), gf = widened(g);
        Tensor refOut = cpu.allocate(DType.F32, shape), refSaved = cpu.allocate(DType.F32, bt, h, t, t);
        cpu.attentionForward(refOut, refSaved, qf, kf, vf, mask, scale, 0f, null);
        Tensor[] refGrads = {cpu.allocate(DType.F32, shape), cpu.allocate(DType.F32, shape), cpu.allocate(DType.F32, shape)};
        cpu.attentionBackward(refGrads[0], refGrads[1], refGrads[2], gf, qf, kf, vf, mask, refSaved, refOut, scale, 0f, null);

        Tensor out = cpu.allocate(DType.BF16, shape), saved = cpu.allocate(DType.F32, bt, h, t, t);
        cpu.attentionForward(out, saved, q, k, v, mask, scale, 0f, null);
        Tensor[] grads = {cpu.allocate(DType.BF16, shape), cpu.allocate(DType.BF16, shape), cpu.allocate(DType.BF16, shape)};
        cpu.attentionBackward(grads[0], grads[1], grads[2], g, q, k, v, mask, saved, out, scale, 0f, null);

        float[] P = cpu.downloadFloat(refSaved), gs = cpu.downloadFloat(g), qs = cpu.downloadFloat(q), ks = cpu.downloadFloat(k);
        float[] vs = cpu.downloadFloat(v), outRef = cpu.downloadFloat(refOut), outBf = cpu.downloadFloat(out);
        float[] dq = cpu.downloadFloat(refGrads[0]), dk = cpu.downloadFloat(refGrads[1]), dv = cpu.downloadFloat(refGrads[2]);
        double[] bq = new double[dq.length], bk = new double[dk.length], bv = new double[dv.length];
        for (int bh = 0; bh < bt * h; bh++) {
            int o = bh * t * d, po = bh * t * t;
            // delta_i from the bf16 out differs from the f32 one by sum_d |g_id| |out_bf16 - out_f32|
            double[] dDelta = new double[t], delta = new double[t];
            for (int i = 0; i < t; i++) {
                for (int c = 0; c < d; c++) {
                    dDelta[i] += Math.abs(gs[o + i * d + c]) * Math.abs(outBf[o + i * d + c] - outRef[o + i * d + c]);
                    delta[i] += gs[o + i * d + c] * outRef[o + i * d + c];
                }
            }
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    double pij = P[po + i * t + j], dp = 0;
                    for (int c = 0; c < d; c++) dp += gs[o + i * d + c] * vs[o + j * d + c];
                    // |delta dS_ij| <= P_ij dDelta_i + U |dS_ij| (dS rounded to bf16 before the GEMMs)
                    double dsErr = pij * dDelta[i] + U * Math.abs(pij * (dp - delta[i]));
                    for (int c = 0; c < d; c++) {
                        bq[o + i * d + c] += scale * dsErr * Math.abs(ks[o + j * d + c]);
                        bk[o + j * d + c] += scale * dsErr * Math.abs(qs[o + i * d + c]);
                        bv[o + j * d + c] += U * pij * Math.abs(gs[o + i * d + c]); // bf16(P) in dv += P^T dOut
                    }
                }
            }
        }
        finish(bq, dq);
        finish(bk, dk);
        finish(bv, dv);
        assertWithin("dq", dq, cpu.downloadFloat(grads[0]), bq);
        assertWithin("dk", dk, cpu.downloadFloat(grads[1]), bk);
        assertWithin("dv", dv, cpu.downloadFloat(grads[2]), bv);
    }

    @Test
    void attentionRejectsBf16OperandsWithBf16Saved() {
        Tensor q = cpu.allocate(DType.BF16, 1, 1, 4, 8);
        var e = assertThrows(IllegalArgumentException.class, () -> cpu.attentionForward(cpu.allocate(DType.BF16, 1, 1, 4, 8),
                cpu.allocate(DType.BF16, 1, 1, 4, 4), q, q, q, keyMask(1, 4), 1f, 0f, null));
        assertTrue(e.getMessage().contains("F32"), e.getMessage());
    }

    @Test
    void adamwBf16CopyIsTheRoundedUpdatedParameter() {
        Random rnd = new Random(6);
        int n = 1003;
        Tensor[] plain = adamState(rnd, n, 11), mixed = adamState(new Random(6), n, 11);
        Tensor copy = cpu.allocate(DType.BF16, n);
        Tensor scale = cpu.allocate(DType.F32), hyper = cpu.allocate(DType.F32, 3);
        cpu.fill(scale, 0.8);
        cpu.upload(hyper, new float[]{0.9f, 0.99f, 1e-2f});
        for (int step = 0; step < 3; step++) {
            cpu.adamwStep(plain[0], plain[1], plain[2], plain[3], scale, hyper, 0.9f, 0.999f, 1e-6f, 0.01f);
            cpu.adamwStep(mixed[0], copy, mixed[1], mixed[2], mixed[3], scale, hyper, 0.9f, 0.999f, 1e-6f, 0.01f);
        }
        float[] p = cpu.downloadFloat(plain[0]), pm = cpu.downloadFloat(mixed[0]), c = cpu.downloadFloat(copy);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(p[i]), Float.floatToIntBits(pm[i]), "param " + i + " differs from the plain step");
            assertEquals(Float.floatToIntBits(HalfFloats.roundToBf16(p[i])), Float.floatToIntBits(c[i]), "bf16 copy " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> cpu.adamwStep(mixed[0], cpu.allocate(DType.BF16, n - 1), mixed[1],
                mixed[2], mixed[3], scale, hyper, 0.9f, 0.999f, 1e-6f, 0f));
    }

    // ------------------------------------------------------------------ helpers

    /** param, grad, m, v of n elements, drawn from rnd. */
    private static Tensor[] adamState(Random rnd, int n, int salt) {
        Tensor[] s = new Tensor[4];
        for (int i = 0; i < 4; i++) {
            s[i] = cpu.allocate(DType.F32, n);
            float[] x = randomFloats(rnd, n);
            if (i == 3) for (int j = 0; j < n; j++) x[j] = Math.abs(x[j]) * salt * 1e-3f;
            cpu.upload(s[i], x);
        }
        return s;
    }

    /** |alpha| * GAMMA * sum_p |op(a)_ip op(b)_pj| + extra, per element of the m x n result. */
    private static double[] sumBound(int m, int n, int k, Tensor a, boolean ta, Tensor b, boolean tb, float alpha,
                                     float[] start, double extra) {
        float[] as = cpu.downloadFloat(a), bs = cpu.downloadFloat(b);
        double[] bound = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += Math.abs(as[ta ? p * m + i : i * k + p] * bs[tb ? j * k + p : p * n + j]);
                }
                bound[i * n + j] = GAMMA * (Math.abs(alpha) * sum + Math.abs(start[i * n + j])) + extra;
            }
        }
        return bound;
    }

    /** bound += U |ref| (the output's own rounding), a 25% margin for second-order terms, plus GAMMA. */
    private static void finish(double[] bound, float[] ref) {
        for (int i = 0; i < bound.length; i++) bound[i] = 1.25 * (bound[i] + U * Math.abs(ref[i])) + GAMMA;
    }

    private static double[] constant(int n, double value) {
        double[] b = new double[n];
        java.util.Arrays.fill(b, value);
        return b;
    }

    private static void assertWithin(String what, float[] expected, float[] actual, double[] bound) {
        int worst = -1;
        double worstRatio = 1;
        for (int i = 0; i < expected.length; i++) {
            double ratio = Math.abs(expected[i] - actual[i]) / bound[i];
            if (!(ratio <= worstRatio)) {
                worst = i;
                worstRatio = ratio;
            }
        }
        if (worst >= 0) {
            fail(String.format("%s: element %d expected %.9g but was %.9g (difference %.3g, bound %.3g)", what, worst,
                    expected[worst], actual[worst], Math.abs(expected[worst] - actual[worst]), bound[worst]));
        }
    }

    private static float[] randomFloats(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    /** A BF16 tensor of N(0, 1) values rounded to bf16. */
    private static Tensor bf16Random(Random rnd, int... shape) {
        Tensor t = cpu.allocate(DType.BF16, shape);
        cpu.upload(t, randomFloats(rnd, Math.toIntExact(Tensor.sizeOf(shape))));
        return t;
    }

    /** The BF16 tensor's exact values as an F32 tensor. */
    private static Tensor widened(Tensor t) {
        Tensor f = cpu.allocate(DType.F32, t.shape());
        cpu.copy(f, t);
        return f;
    }

    /** Row 0 attends to every key, row 1 to the first 60% (the rest is padding). */
    private static Tensor keyMask(int batch, int seq) {
        int[] m = new int[batch * seq];
        for (int b = 0; b < batch; b++) for (int j = 0; j < seq; j++) m[b * seq + j] = b == 0 || j < seq * 3 / 5 ? 1 : 0;
        Tensor t = cpu.allocate(DType.I32, batch, seq);
        cpu.upload(t, m);
        return t;
    }
}
