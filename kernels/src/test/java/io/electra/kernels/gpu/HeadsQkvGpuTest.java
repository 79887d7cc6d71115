package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every _qkv entry point of heads.cu against the CPU backend, bit for bit: the fused query, key and
 * value projection [B, T, 3*H*D] split into q, k, v and their gradients merged back (overwriting and
 * accumulating), for each pairing of F32 and BF16 sides, at ELECTRA-Small's (C 256, H 4), Base's
 * (C 768, H 12) and the small generator's (C 64, H 1) widths and at odd sizes.
 */
@Tag("gpu")
class HeadsQkvGpuTest {
    static List<Arguments> cases() {
        int[][] shapes = {{2, 32, 4, 64}, {1, 16, 12, 64}, {3, 20, 1, 64}, {2, 7, 3, 5}, {1, 1, 1, 1}, {3, 33, 2, 17}};
        List<Arguments> out = new ArrayList<>();
        for (int[] s : shapes) {
            for (DType fused : new DType[] {DType.F32, DType.BF16}) {
                for (DType heads : new DType[] {DType.F32, DType.BF16}) out.add(Arguments.of(fused, heads, s[0], s[1], s[2], s[3]));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "fused {0}, heads {1}, B {2} T {3} H {4} D {5}")
    @MethodSource("cases")
    void splitAndMergeMatchTheCpuExactly(DType fusedType, DType headType, int B, int T, int H, int D) {
        try (Twins tw = new Twins(B * 1000L + T * 10L + H + D)) {
            Twin fused = sample(tw, fusedType, B, T, 3 * H * D);
            Twin[] heads = {nan(tw, headType, B, H, T, D), nan(tw, headType, B, H, T, D), nan(tw, headType, B, H, T, D)};
            tw.both(be -> be.splitHeadsQkv(heads[0].on(be), heads[1].on(be), heads[2].on(be), fused.on(be), H));
            String split = "heads_forward_split_qkv_" + variant(fusedType, headType);
            for (Twin t : heads) tw.expectClose(split, t, 0, 0);
            Twin dq = sample(tw, headType, B, H, T, D), dk = sample(tw, headType, B, H, T, D), dv = sample(tw, headType, B, H, T, D);
            String merge = "heads_forward_merge_qkv_" + variant(headType, fusedType);
            for (boolean accumulate : new boolean[] {false, true}) {
                Twin dIn = sample(tw, fusedType, B, T, 3 * H * D);
                tw.both(be -> be.mergeHeadsQkv(dIn.on(be), dq.on(be), dk.on(be), dv.on(be), accumulate));
                tw.expectClose(merge, dIn, 0, 0);
            }
        }
    }

    @Test
    void misShapedCallsAreRefusedNamingTheKernel() {
        try (Twins tw = new Twins(3)) {
            Tensor fused = tw.gpu.allocate(DType.F32, 2, 3, 3 * 8).named("qkv");
            Tensor q = tw.gpu.allocate(DType.BF16, 2, 2, 3, 4), k = tw.gpu.allocate(DType.BF16, 2, 2, 3, 4);
            Tensor v = tw.gpu.allocate(DType.BF16, 2, 2, 4, 4).named("v");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tw.gpu.splitHeadsQkv(q, k, v, fused, 2));
            assertTrue(e.getMessage().contains("heads_forward_split_qkv_f32_to_bf16") && e.getMessage().contains("v BF16"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> tw.gpu.mergeHeadsQkv(fused, q, k, v, true));
            assertTrue(e.getMessage().contains("heads_forward_merge_qkv_bf16_to_f32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> tw.gpu.splitHeadsQkv(q, k, k, fused, 5));
            assertTrue(e.getMessage().contains("qkv F32[2, 3, 24]"), e.getMessage());
            for (Tensor t : new Tensor[] {fused, q, k, v}) tw.gpu.free(t);
        }
    }

    private static String variant(DType in, DType out) {
        return in == out ? suffix(in) : suffix(in) + "_to_" + suffix(out);
    }

    private static String suffix(DType t) {
        return t == DType.BF16 ? "bf16" : "f32";
    }

    /** Normal samples in {@code type} on both sides (BF16 on both, so the CPU's conversions are the reference). */
    private static Twin sample(Twins tw, DType type, int... shape) {
        if (type == DType.F32) return tw.normal(1, shape);
        short[] bits = new short[Math.toIntExact(Tensor.sizeOf(shape))];
        for (int i = 0; i < bits.length; i++) bits[i] = HalfFloats.floatToBf16((float) tw.random.nextGaussian());
        Twin t = tw.zeros(DType.BF16, shape);
        tw.cpu.upload(t.cpu(), bits);
        tw.gpu.upload(t.gpu(), bits);
        return t;
    }

    /** NaN on both sides: an element the GPU leaves unwritten differs from the CPU's value. */
    private static Twin nan(Twins tw, DType type, int... shape) {
        Twin t = tw.zeros(type, shape);
        tw.both(be -> be.fill(t.on(be), Double.NaN));
        return t;
    }
}
