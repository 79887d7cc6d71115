package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every heads.cu entry point against the CPU backend, bit for bit: split and merge, overwriting and
 * accumulating, for each pairing of F32 and BF16 sides (mixed precision splits f32 projections into
 * bf16 heads and merges bf16 gradients back into f32 ones, rounding once to nearest even).
 */
@Tag("gpu")
class HeadsGpuTest {
    @ParameterizedTest(name = "{0} to {1}, B {2} T {3} H {4} D {5}")
    @CsvSource({"F32, F32, 2, 7, 3, 5", "F32, BF16, 2, 33, 4, 64", "BF16, F32, 3, 128, 4, 64", "BF16, BF16, 1, 1, 1, 1",
            "F32, BF16, 1, 5, 12, 16"})
    void splitAndMergeMatchTheCpuExactly(DType in, DType out, int B, int T, int H, int D) {
        try (Twins tw = new Twins(B * 1000L + T * 10L + H)) {
            String variant = in == out ? suffix(in) : suffix(in) + "_to_" + suffix(out);
            for (boolean accumulate : new boolean[] {false, true}) {
                Twin merged = sample(tw, in, B, T, H * D), heads = sample(tw, out, B, H, T, D);
                tw.both(be -> be.splitHeads(heads.on(be), merged.on(be), H, accumulate));
                tw.expectClose("heads_forward_split_" + variant, heads, 0, 0);
                Twin split = sample(tw, in, B, H, T, D), back = sample(tw, out, B, T, H * D);
                tw.both(be -> be.mergeHeads(back.on(be), split.on(be), accumulate));
                tw.expectClose("heads_forward_merge_" + variant, back, 0, 0);
            }
        }
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

    private static String suffix(DType t) {
        return t == DType.BF16 ? "bf16" : "f32";
    }
}
