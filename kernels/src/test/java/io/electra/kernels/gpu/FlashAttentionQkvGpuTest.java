package io.electra.kernels.gpu;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.BF16;
import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Flash attention over a fused projection (attentionForwardQkv / attentionBackwardQkv): the kernels
 * read q, k, v in place from qkv [B, T, 3*H*D], write the context [B, T, H*D] and the gradients in
 * place into dQkv. Only the addressing differs from the [B, H, T, D] path, so on the GPU the results
 * must be that path's, split, attended and merged, to the bit (a zero's sign aside: 0 + -0 is +0),
 * overwriting and accumulating; FlashAttentionGpuTest holds that path against the CPU. They are also
 * held against the CPU's fused-projection attention directly, with that test's tolerances (see
 * there), with padding and dropout, at tile-straddling lengths.
 */
@Tag("gpu")
class FlashAttentionQkvGpuTest {
    private static final RngKey KEY = new RngKey(987654321L, 5, RngKey.DROPOUT_BASE + 9);

    @ParameterizedTest(name = "{0} T {1} H {2} D {3} p {4}")
    @CsvSource({"F32, 33, 2, 16, 0.1", "F32, 128, 4, 64, 0", "F32, 7, 3, 32, 0.1",
            "BF16, 33, 4, 64, 0.1", "BF16, 128, 4, 64, 0.1", "BF16, 100, 2, 32, 0", "BF16, 7, 1, 16, 0.1"})
    void inPlaceHeadsAreTheHeadsPathBitForBitAndMatchTheCpu(DType type, int T, int H, int D, float p) {
        int B = 3, C = H * D;
        boolean bf16 = type == BF16;
        float scale = (float) (1 / Math.sqrt(D));
        try (Twins tw = new Twins(T * 1000L + H * 10L + D)) {
            Backend gpu = tw.gpu;
            Twin keyMask = tw.ints(mask(B, T), B, T);
            Twin qkv = input(tw, bf16, B, T, 3 * C);
            Twin out = nan(tw, bf16, B, T, C);
            Twin saved = tw.pair(F32, tw.cpu.attentionSavedShape(B, H, T, D), F32, gpu.attentionSavedShape(B, H, T, D));
            tw.both(be -> be.attentionForwardQkv(out.on(be), saved.on(be), qkv.on(be), H, keyMask.on(be), scale, p, KEY));
            String suffix = (bf16 ? "_bf16_d" : "_f32_d") + D;
            tw.expectClose("flash_attention_forward" + suffix, out, bf16 ? 0x1p-7 : 1e-5, bf16 ? 0x1p-7 : 1e-4);

            // the heads path on the GPU: split, attend, merge
            int[] heads = {B, H, T, D};
            Tensor q = gpu.allocate(type, heads), k = gpu.allocate(type, heads), v = gpu.allocate(type, heads);
            Tensor o = gpu.allocate(type, heads), lse = gpu.allocate(F32, gpu.attentionSavedShape(B, H, T, D));
            Tensor merged = gpu.allocate(type, B, T, C);
            gpu.splitHeadsQkv(q, k, v, qkv.gpu(), H);
            gpu.attentionForward(o, lse, q, k, v, keyMask.gpu(), scale, p, KEY);
            gpu.mergeHeads(merged, o, false);
            same("forward out", merged, out.gpu(), gpu);
            same("forward lse", lse, saved.gpu(), gpu);

            Twin dOut = input(tw, bf16, B, T, C);
            Tensor g = gpu.allocate(type, heads);
            gpu.splitHeads(g, dOut.gpu(), H, false);
            String prep = "flash_attention_backward_prep" + (bf16 ? "_bf16" : "_f32");
            double atol = bf16 ? 0x1p-6 : 1e-5 * Math.sqrt(T), rtol = bf16 ? 0x1p-7 : 1e-4;
            for (boolean accumulate : new boolean[] {false, true}) {
                // overwriting starts from NaN, which must not survive; accumulating from values it must keep
                Twin dQkv = accumulate ? input(tw, bf16, B, T, 3 * C) : nan(tw, bf16, B, T, 3 * C);
                Tensor dq = gpu.allocate(type, heads), dk = gpu.allocate(type, heads), dv = gpu.allocate(type, heads);
                if (accumulate) gpu.splitHeadsQkv(dq, dk, dv, dQkv.gpu(), H);
                tw.both(be -> be.attentionBackwardQkv(dQkv.on(be), accumulate, dOut.on(be), qkv.on(be), H, keyMask.on(be),
                        saved.on(be), out.on(be), scale, p, KEY));
                tw.expectClose(prep + "+flash_attention_backward_dkdv" + suffix + "+flash_attention_backward_dq" + suffix,
                        dQkv, atol, rtol);
                gpu.attentionBackward(dq, dk, dv, g, q, k, v, keyMask.gpu(), lse, o, scale, p, KEY);
                Tensor want = gpu.allocate(type, B, T, 3 * C);
                gpu.mergeHeadsQkv(want, dq, dk, dv, false);
                same((accumulate ? "accumulated" : "overwritten") + " dQkv", want, dQkv.gpu(), gpu);
                for (Tensor t : new Tensor[] {dq, dk, dv, want}) gpu.free(t);
            }
            for (Tensor t : new Tensor[] {q, k, v, o, lse, merged, g}) gpu.free(t);
        }
    }

    @Test
    void misShapedCallsAreRefusedNamingTheTensor() {
        try (Twins tw = new Twins(11)) {
            Tensor qkv = tw.gpu.allocate(BF16, 2, 5, 3 * 64).named("qkv"), lse = tw.gpu.allocate(F32, 2, 2, 5);
            Tensor mask = tw.gpu.allocate(DType.I32, 2, 5), out = tw.gpu.allocate(BF16, 2, 5, 32).named("context");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> tw.gpu.attentionForwardQkv(out, lse, qkv, 2, mask, 1f, 0f, KEY));
            assertTrue(e.getMessage().contains("context BF16[2, 5, 32]") && e.getMessage().contains("[2, 5, 64]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> tw.gpu.attentionForwardQkv(out, lse, qkv, 5, mask, 1f, 0f, KEY));
            assertTrue(e.getMessage().contains("qkv BF16[2, 5, 192]"), e.getMessage());
            Tensor dQkv = tw.gpu.allocate(F32, 2, 5, 3 * 64).named("dQkv"), ctx = tw.gpu.allocate(BF16, 2, 5, 64);
            e = assertThrows(IllegalArgumentException.class,
                    () -> tw.gpu.attentionBackwardQkv(dQkv, false, ctx, qkv, 2, mask, lse, ctx, 1f, 0f, KEY));
            assertTrue(e.getMessage().contains("dQkv F32[2, 5, 192]"), e.getMessage());
            for (Tensor t : new Tensor[] {qkv, lse, mask, out, dQkv, ctx}) tw.gpu.free(t);
        }
    }

    /** Equal as floats, element by element (so +0 and -0 are the same; NaN never is). */
    private static void same(String what, Tensor want, Tensor got, Backend gpu) {
        float[] w = gpu.downloadFloat(want), g = gpu.downloadFloat(got);
        for (int i = 0; i < w.length; i++) {
            if (!(w[i] == g[i])) fail(what + ": element " + i + " of " + w.length + " is " + g[i] + " in place, " + w[i] + " via heads");
        }
    }

    /** Sequence b has T - b*T/3 valid keys (at least 1); the last of 3 is all padding. */
    private static int[] mask(int B, int T) {
        int[] mask = new int[B * T];
        for (int b = 0; b < B; b++) {
            int valid = b == B - 1 ? 0 : Math.max(1, T - b * T / 3);
            for (int t = 0; t < valid; t++) mask[b * T + t] = 1;
        }
        return mask;
    }

    private static Twin input(Twins tw, boolean bf16, int... shape) {
        return bf16 ? tw.bf16Normal(1, shape) : tw.normal(1, shape);
    }

    private static Twin nan(Twins tw, boolean bf16, int... shape) {
        float[] data = new float[Math.toIntExact(Tensor.sizeOf(shape))];
        java.util.Arrays.fill(data, Float.NaN);
        return bf16 ? tw.bf16(data, shape) : tw.floats(data, shape);
    }
}
