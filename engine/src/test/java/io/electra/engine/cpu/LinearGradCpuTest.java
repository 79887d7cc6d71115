package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static io.electra.engine.testing.TestValues.gaussian;

/**
 * linearOutputGrad against the three calls it replaces: geluBackward into a zeroed F32 buffer (or dOut
 * itself without GELU), copy to the gradient's dtype, biasBackward of the F32 values. Bit for bit, but
 * for the sign of a zero: the zeroed buffer turned a -0 product into +0, the fused op keeps -0.
 */
class LinearGradCpuTest {
    private static final CpuBackend cpu = new CpuBackend(2);
    private static final int[][] SHAPES = {{1, 1}, {7, 33}, {130, 256}};

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void matchesGeluBackwardCopyAndBiasBackwardBitForBit() {
        Random rnd = new Random(31);
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1];
            float[] dOutValues = gaussian(rnd, rows * cols, 1), preValues = gaussian(rnd, rows * cols, 3);
            if (dOutValues.length > 2) {  // zero gradients of both signs: -0 is kept without GELU, a zero product with it
                dOutValues[1] = -0f;
                dOutValues[2] = 0f;
            }
            Tensor dOut = upload(dOutValues, rows, cols), pre = upload(preValues, rows, cols);
            float[] biasStart = gaussian(rnd, cols, 1);  // non-zero: dBias must accumulate
            for (boolean gelu : new boolean[]{false, true}) {
                Tensor g = dOut;
                if (gelu) {
                    g = cpu.allocate(DType.F32, rows, cols);
                    cpu.geluBackward(g, dOut, pre);
                }
                Tensor wantBias = upload(biasStart, cols);
                cpu.biasBackward(wantBias, g);
                for (DType type : new DType[]{DType.F32, DType.BF16}) {
                    Tensor want = cpu.allocate(type, rows, cols);
                    cpu.copy(want, g);
                    for (boolean withBias : new boolean[]{false, true}) {
                        String what = type + (gelu ? " gelu" : "") + (withBias ? " dBias" : "") + " [" + rows + ", " + cols + "]";
                        Tensor got = cpu.allocate(type, rows, cols);
                        cpu.fill(got, Double.NaN);  // gradOut is overwritten everywhere
                        Tensor gotBias = withBias ? upload(biasStart, cols) : null;
                        cpu.linearOutputGrad(got, gotBias, dOut, gelu ? pre : null);
                        assertSameBits(what + " gradOut", cpu.downloadFloat(want), cpu.downloadFloat(got));
                        if (withBias) assertSameBits(what + " dBias", cpu.downloadFloat(wantBias), cpu.downloadFloat(gotBias));
                    }
                }
            }
        }
    }

    /** Mixed precision hands the attention's BF16 gradient to biasBackward: the sums of its exact widening, same order. */
    @Test
    void biasBackwardSumsABf16GradientAsItsF32Widening() {
        Random rnd = new Random(37);
        for (int[] s : SHAPES) {
            int rows = s[0], cols = s[1];
            Tensor bf16 = cpu.allocate(DType.BF16, rows, cols), wide = cpu.allocate(DType.F32, rows, cols);
            cpu.upload(bf16, gaussian(rnd, rows * cols, 1));
            cpu.copy(wide, bf16);
            float[] start = gaussian(rnd, cols, 1);
            Tensor want = upload(start, cols), got = upload(start, cols);
            cpu.biasBackward(want, wide);
            cpu.biasBackward(got, bf16);
            assertSameBits("[" + rows + ", " + cols + "]", cpu.downloadFloat(want), cpu.downloadFloat(got));
        }
        Tensor bf16 = cpu.allocate(DType.BF16, 4, 3).named("dOut");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.biasBackward(cpu.allocate(DType.BF16, 3).named("dBias"), bf16));
        assertTrue(e.getMessage().contains("dBias BF16[3]") && e.getMessage().contains("dOut BF16[4, 3]"), e.getMessage());
    }

    @Test
    void argumentErrorsNameTheTensors() {
        Tensor dOut = cpu.allocate(DType.F32, 4, 3).named("dOut"), pre = cpu.allocate(DType.F32, 4, 3).named("pre");
        Tensor out = cpu.allocate(DType.BF16, 4, 3).named("gradOut"), dBias = cpu.allocate(DType.F32, 3).named("dBias");
        expectError("gradOut F32[3, 4]", () -> cpu.linearOutputGrad(cpu.allocate(DType.F32, 3, 4).named("gradOut"), dBias, dOut, pre));
        expectError("dBias F32[4]", () -> cpu.linearOutputGrad(out, cpu.allocate(DType.F32, 4).named("dBias"), dOut, pre));
        expectError("pre F32[4, 2]", () -> cpu.linearOutputGrad(out, dBias, dOut, cpu.allocate(DType.F32, 4, 2).named("pre")));
        expectError("gradOut F64[4, 3]", () -> cpu.linearOutputGrad(cpu.allocate(DType.F64, 4, 3).named("gradOut"), dBias, dOut, pre));
        expectError("gradOut I32[4, 3]", () -> cpu.linearOutputGrad(cpu.allocate(DType.I32, 4, 3).named("gradOut"), dBias, dOut, pre));
        expectError("dOut BF16[4, 3]", () -> cpu.linearOutputGrad(out, dBias, cpu.allocate(DType.BF16, 4, 3).named("dOut"), pre));
        expectError("dBias F64[3]", () -> cpu.linearOutputGrad(out, cpu.allocate(DType.F64, 3).named("dBias"), dOut, pre));
        expectError("dOut F32[12]", () -> cpu.linearOutputGrad(out.view(12), dBias, dOut.view(12), null));
        Tensor f32Out = cpu.allocate(DType.F32, 4, 3).named("gradOut");
        expectError("overlaps", () -> cpu.linearOutputGrad(dOut, dBias, dOut, pre));
        expectError("overlaps", () -> cpu.linearOutputGrad(f32Out, f32Out.rows(0, 1).view(3), dOut, null));
    }

    private static void expectError(String named, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run, named);
        assertTrue(e.getMessage().startsWith("linearOutputGrad: ") && e.getMessage().contains(named), e.getMessage());
    }

    /** Equal bits, or both zeros (the one difference allowed: a zero's sign). */
    private static void assertSameBits(String what, float[] want, float[] got) {
        int zeros = 0;
        for (int i = 0; i < want.length; i++) {
            boolean bothZero = want[i] == 0f && got[i] == 0f;
            if (bothZero) zeros++;
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i]) && !bothZero) {
                fail(what + ": element " + i + " of " + want.length + " is " + got[i] + ", the unfused calls give " + want[i]);
            }
        }
        assertTrue(zeros < want.length || want.length == 1, what + " is all zeros");
    }

    private static Tensor upload(float[] values, int... shape) {
        Tensor t = cpu.allocate(DType.F32, shape);
        cpu.upload(t, values);
        return t;
    }
}
