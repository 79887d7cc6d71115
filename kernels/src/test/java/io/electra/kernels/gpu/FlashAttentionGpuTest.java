package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.BF16;
import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * flash_attention.cu against the CPU backend's attention: out and the accumulated dq, dk, dv, with
 * padding (one sequence partly, one entirely padding), with and without dropout, at sequence
 * lengths that are and are not multiples of the tiles; lse against its definition; the dropout
 * masks bit for bit.
 *
 * <p>Tolerances. F32 kernels: rtol 1e-4 (the CPU sums in double, the GPU in float, in another
 * order), atol 1e-5 for out and 1e-5 sqrt(T) for gradients, which sum T terms. BF16 kernels: the
 * inputs are bf16 on both sides, so the differences are the bf16 roundings inside: P (forward)
 * and P, dS (backward) are rounded to bf16 before their tensor-core products (relative error at
 * most 2^-8 per term: half an ulp, bf16 keeps 8 significant bits; the CPU rounds the normalised P,
 * the GPU the unnormalised one), and every result is rounded to bf16 once on each side, where two
 * nearly equal values may land on neighbouring bf16 numbers: rtol 2^-7 (one ulp). For
 * out = sum_j P_ij v_j with sum_j P_ij = 1, the per-term roundings are random in sign and add far
 * less than their worst case 2^-7 max|v|: atol 2^-7 for out. The gradients' terms dS_ij k_j have
 * sum_j |dS_ij| up to about 2 / scale at D = 64 (|dOut . v| ~ sqrt(D)), so the same reasoning
 * gives atol 2^-6. A wrong fragment,
 * mask or dropout bit moves a value by P_ij |v| >= 1/T, far outside.
 */
@Tag("gpu")
class FlashAttentionGpuTest {
    private static final RngKey KEY = new RngKey(1234567890123L, 77, RngKey.DROPOUT_BASE + 3);

    @ParameterizedTest(name = "{0} T {1} D {2} p {3}")
    @CsvSource({
            "F32, 1, 16, 0", "F32, 7, 32, 0.1", "F32, 33, 64, 0", "F32, 127, 16, 0.1", "F32, 128, 64, 0.1",
            "F32, 512, 64, 0.1", "F32, 512, 32, 0",
            "BF16, 1, 64, 0", "BF16, 7, 16, 0.1", "BF16, 33, 32, 0", "BF16, 127, 64, 0.1", "BF16, 128, 64, 0",
            "BF16, 128, 16, 0.1", "BF16, 512, 64, 0.1", "BF16, 512, 32, 0.1"})
    void forwardAndBackwardMatchTheCpu(DType type, int T, int D, float p) {
        int B = 3, H = 2;
        boolean bf16 = type == BF16;
        try (Twins tw = new Twins(T * 100L + D + (bf16 ? 7 : 0))) {
            Twin keyMask = tw.ints(mask(B, T), B, T);
            Twin q = input(tw, bf16, B, H, T, D), k = input(tw, bf16, B, H, T, D), v = input(tw, bf16, B, H, T, D);
            Twin out = bf16 ? tw.bf16Zeros(B, H, T, D) : tw.zeros(F32, B, H, T, D);
            Twin saved = tw.pair(F32, tw.cpu.attentionSavedShape(B, H, T, D), F32, tw.gpu.attentionSavedShape(B, H, T, D));
            assertArrayEquals(new int[] {B, H, T}, saved.gpu().shape(), "flash saves the log-sum-exp");
            float scale = (float) (1 / Math.sqrt(D));
            tw.both(be -> be.attentionForward(out.on(be), saved.on(be), q.on(be), k.on(be), v.on(be), keyMask.on(be), scale, p, KEY));
            String suffix = (bf16 ? "_bf16_d" : "_f32_d") + D, prep = "flash_attention_backward_prep" + (bf16 ? "_bf16" : "_f32");
            tw.expectClose("flash_attention_forward" + suffix, out, bf16 ? 0x1p-7 : 1e-5, bf16 ? 0x1p-7 : 1e-4);

            Twin dOut = input(tw, bf16, B, H, T, D);
            Twin dq = input(tw, bf16, B, H, T, D), dk = input(tw, bf16, B, H, T, D), dv = input(tw, bf16, B, H, T, D);
            tw.both(be -> be.attentionBackward(dq.on(be), dk.on(be), dv.on(be), dOut.on(be), q.on(be), k.on(be), v.on(be),
                    keyMask.on(be), saved.on(be), out.on(be), scale, p, KEY));
            double atol = bf16 ? 0x1p-6 : 1e-5 * Math.sqrt(T), rtol = bf16 ? 0x1p-7 : 1e-4;
            tw.expectClose(prep + "+flash_attention_backward_dkdv" + suffix, dv, atol, rtol);
            tw.expectClose(prep + "+flash_attention_backward_dkdv" + suffix, dk, atol, rtol);
            tw.expectClose(prep + "+flash_attention_backward_dq" + suffix, dq, atol, rtol);
        }
    }

    @Test
    void logSumExpIsTheSoftmaxNormaliserAndInfinityForAnAllPaddingRow() {
        int B = 3, H = 2, T = 45, D = 32;
        try (Twins tw = new Twins(99)) {
            int[] m = mask(B, T);
            Twin keyMask = tw.ints(m, B, T);
            Twin q = tw.normal(1, B, H, T, D), k = tw.normal(1, B, H, T, D), v = tw.normal(1, B, H, T, D);
            Tensor out = tw.zeros(F32, B, H, T, D).gpu(), lse = tw.zeros(F32, B, H, T).gpu();
            float scale = 0.3f;
            tw.gpu.attentionForward(out, lse, q.gpu(), k.gpu(), v.gpu(), keyMask.gpu(), scale, 0f, KEY);
            float[] qs = tw.cpu.downloadFloat(q.cpu()), ks = tw.cpu.downloadFloat(k.cpu()), got = tw.gpu.downloadFloat(lse);
            for (int bh = 0; bh < B * H; bh++) {
                int b = bh / H;
                for (int i = 0; i < T; i++) {
                    double sum = 0;
                    for (int j = 0; j < T; j++) {
                        if (m[b * T + j] == 0) continue;
                        double s = 0;
                        for (int d = 0; d < D; d++) s += (double) qs[(bh * T + i) * D + d] * ks[(bh * T + j) * D + d];
                        sum += Math.exp(s * scale);
                    }
                    double want = sum == 0 ? Double.POSITIVE_INFINITY : Math.log(sum);
                    float g = got[bh * T + i];
                    if (!(want == g || Math.abs(want - g) <= 1e-5 + 1e-6 * Math.abs(want))) {
                        fail("lse at (bh " + bh + ", i " + i + ") is " + g + ", want " + want);
                    }
                }
            }
            Ledger.record("flash_attention_forward_f32_d32", 0);
        }
    }

    @ParameterizedTest(name = "{0} T {1}")
    @CsvSource({"F32, 33", "F32, 64", "BF16, 33", "BF16, 64"})
    void dropoutMasksAreTheCpuStreamBitForBit(DType type, int T) {
        // q = k = 0 makes P uniform over the valid keys; v_j = e_j (one-hot, T <= D) makes out[i, j] = P_ij keep_ij / (1 - p),
        // and dOut_i = e_i makes dv[j, i] = the same: the masks of the forward and of the dk/dv kernel appear as zeros.
        int B = 2, H = 2, D = 64;
        float p = 0.25f;
        boolean bf16 = type == BF16;
        try (Twins tw = new Twins(T)) {
            int[] m = new int[B * T];
            for (int j = 0; j < T; j++) m[j] = 1;
            for (int j = 0; j < 20; j++) m[T + j] = 1;
            Tensor keyMask = tw.ints(m, B, T).gpu();
            float[] oneHot = new float[B * H * T * D];
            for (int bh = 0; bh < B * H; bh++) for (int j = 0; j < T; j++) oneHot[(bh * T + j) * D + j] = 1;
            Tensor zeros = zeros(tw, bf16, B, H, T, D), eye = bf16 ? tw.bf16(oneHot, B, H, T, D).gpu() : tw.floats(oneHot, B, H, T, D).gpu();
            Tensor out = zeros(tw, bf16, B, H, T, D), lse = tw.zeros(F32, B, H, T).gpu();
            tw.gpu.attentionForward(out, lse, zeros, zeros, eye, keyMask, 1f, p, KEY);
            Tensor dq = zeros(tw, bf16, B, H, T, D), dk = zeros(tw, bf16, B, H, T, D), dv = zeros(tw, bf16, B, H, T, D);
            tw.gpu.attentionBackward(dq, dk, dv, eye, zeros, zeros, eye, keyMask, lse, out, 1f, p, KEY);

            Tensor ones = tw.cpu.allocate(F32, B * H * T * T), keep = tw.cpu.allocate(F32, B * H * T * T);
            tw.cpu.fill(ones, 1);
            tw.cpu.dropoutForward(keep, ones, p, KEY);  // element ((b*H + h)*T + i)*T + j, as the Backend javadoc says
            float[] want = tw.cpu.downloadFloat(keep), o = tw.gpu.downloadFloat(out), g = tw.gpu.downloadFloat(dv);
            for (int bh = 0; bh < B * H; bh++) {
                for (int i = 0; i < T; i++) {
                    for (int j = 0; j < T; j++) {
                        if (m[(bh / H) * T + j] == 0) continue;
                        boolean kept = want[(bh * T + i) * T + j] != 0;
                        assertEquals(kept, o[(bh * T + i) * D + j] != 0, "forward keep at (bh " + bh + ", i " + i + ", j " + j + ")");
                        assertEquals(kept, g[(bh * T + j) * D + i] != 0, "backward keep at (bh " + bh + ", i " + i + ", j " + j + ")");
                    }
                }
            }
            String suffix = (bf16 ? "_bf16" : "_f32") + "_d64";
            Ledger.record("flash_attention_forward" + suffix + "+flash_attention_backward_dkdv" + suffix, 0);
        }
    }

    /** Sequence b has T - b*T/3 valid keys (at least 1); the last of 3 or more is all padding. */
    private static int[] mask(int B, int T) {
        int[] mask = new int[B * T];
        for (int b = 0; b < B; b++) {
            int valid = b == B - 1 && B > 2 ? 0 : Math.max(1, T - b * T / 3);
            for (int t = 0; t < valid; t++) mask[b * T + t] = 1;
        }
        return mask;
    }

    private static Twin input(Twins tw, boolean bf16, int... shape) {
        return bf16 ? tw.bf16Normal(1, shape) : tw.normal(1, shape);
    }

    private static Tensor zeros(Twins tw, boolean bf16, int... shape) {
        return (bf16 ? tw.bf16Zeros(shape) : tw.zeros(F32, shape)).gpu();
    }
}
