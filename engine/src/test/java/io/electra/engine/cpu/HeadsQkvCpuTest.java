package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.io.HalfFloats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * splitHeadsQkv and mergeHeadsQkv are splitHeads and mergeHeads applied to the fused tensor's column
 * thirds (cut out on the host, which moves bits exactly), bit for bit: every dtype pairing, both
 * overwriting and accumulating merges, and shapes with one head, odd sizes and size 1.
 */
class HeadsQkvCpuTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    @ParameterizedTest(name = "fused {0}, heads {1}, B {2} T {3} H {4} D {5}")
    @CsvSource({"F32, F32, 2, 5, 3, 4", "F32, BF16, 2, 7, 4, 16", "BF16, F32, 1, 3, 2, 5", "BF16, BF16, 3, 1, 1, 1",
            "F64, F64, 2, 3, 2, 3", "F32, BF16, 1, 9, 1, 64"})
    void splitIsSplitHeadsOfEachColumnThird(DType fusedType, DType headType, int b, int t, int h, int d) {
        Random rnd = new Random(b * 1000L + t * 10L + h);
        int c = h * d;
        double[] fused = values(rnd, fusedType, b * t * 3 * c);
        Tensor in = tensor(fusedType, fused, b, t, 3 * c);
        Tensor[] got = {poisoned(headType, b, h, t, d), poisoned(headType, b, h, t, d), poisoned(headType, b, h, t, d)};
        cpu.splitHeadsQkv(got[0], got[1], got[2], in, h);
        for (int part = 0; part < 3; part++) {
            Tensor want = cpu.allocate(headType, b, h, t, d);
            cpu.splitHeads(want, tensor(fusedType, third(fused, part, c), b, t, c), h, false);
            assertSameBits("split " + "qkv".charAt(part), cpu.downloadDouble(want), cpu.downloadDouble(got[part]));
        }
    }

    @ParameterizedTest(name = "fused {0}, heads {1}, B {2} T {3} H {4} D {5}")
    @CsvSource({"F32, F32, 2, 5, 3, 4", "F32, BF16, 2, 7, 4, 16", "BF16, F32, 1, 3, 2, 5", "BF16, BF16, 3, 1, 1, 1",
            "F64, F64, 2, 3, 2, 3", "F32, BF16, 1, 9, 1, 64"})
    void mergeIsMergeHeadsIntoEachColumnThird(DType fusedType, DType headType, int b, int t, int h, int d) {
        Random rnd = new Random(b * 1000L + t * 10L + h + 1);
        int c = h * d;
        Tensor[] heads = new Tensor[3];
        double[][] headValues = new double[3][];
        for (int part = 0; part < 3; part++) {
            headValues[part] = values(rnd, headType, b * h * t * d);
            heads[part] = tensor(headType, headValues[part], b, h, t, d);
        }
        double[] start = values(rnd, fusedType, b * t * 3 * c);
        for (boolean accumulate : new boolean[] {false, true}) {
            Tensor dIn = tensor(fusedType, start, b, t, 3 * c);
            cpu.mergeHeadsQkv(dIn, heads[0], heads[1], heads[2], accumulate);
            double[] got = cpu.downloadDouble(dIn);
            for (int part = 0; part < 3; part++) {
                Tensor want = tensor(fusedType, third(start, part, c), b, t, c);
                cpu.mergeHeads(want, heads[part], accumulate);
                assertSameBits("merge " + "qkv".charAt(part) + ", accumulate " + accumulate, cpu.downloadDouble(want),
                        third(got, part, c));
            }
        }
    }

    @Test
    void wrongArgumentsAreRefusedNamingTheTensors() {
        int b = 2, t = 3, h = 2, d = 4, c = h * d;
        Tensor in = cpu.allocate(DType.F32, b, t, 3 * c).named("qkv");
        Tensor q = cpu.allocate(DType.F32, b, h, t, d).named("q"), k = cpu.allocate(DType.F32, b, h, t, d).named("k");
        Tensor v = cpu.allocate(DType.F32, b, h, t, d).named("v");
        refused("q", () -> cpu.splitHeadsQkv(cpu.allocate(DType.F32, b, h, t, d + 1).named("q"), k, v, in, h));
        refused("v BF16", () -> cpu.splitHeadsQkv(q, k, cpu.allocate(DType.BF16, b, h, t, d).named("v"), in, h));
        refused("qkv F32[2, 3, 24]", () -> cpu.splitHeadsQkv(q, k, v, in, 5));
        refused("heads = 0", () -> cpu.splitHeadsQkv(q, k, v, in, 0));
        refused("qkv F32[2, 3, 8] does not split", () -> cpu.splitHeadsQkv(q, k, v, cpu.allocate(DType.F32, b, t, c).named("qkv"), h));
        refused("F64", () -> cpu.splitHeadsQkv(q, k, v, cpu.allocate(DType.F64, b, t, 3 * c).named("qkv"), h));
        Tensor whole = cpu.allocate(DType.F32, 4, b, h, t, d);  // q overlapping k: both views of one block
        refused("overlaps", () -> cpu.splitHeadsQkv(whole.view(4 * b, h, t, d).rows(0, b), whole.view(4 * b, h, t, d).rows(1, b),
                v, in, h));
        refused("dk", () -> cpu.mergeHeadsQkv(in, q, cpu.allocate(DType.F32, b, h, t + 1, d).named("dk"), v, false));
        refused("qkv", () -> cpu.mergeHeadsQkv(in.view(b * t, 3 * c), q, k, v, true));
        refused("rank 4", () -> cpu.mergeHeadsQkv(in, q.view(b * h, t, d), k, v, true));
    }

    private static void refused(String mention, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, mention);
        assertTrue(e.getMessage().contains(mention) && e.getMessage().contains("HeadsQkv"), e.getMessage());
    }

    /** Normal values exactly representable in {@code type}. */
    private static double[] values(Random rnd, DType type, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x = rnd.nextGaussian();
            v[i] = type == DType.F64 ? x : type == DType.F32 ? (float) x : HalfFloats.roundToBf16((float) x);
        }
        return v;
    }

    private static Tensor tensor(DType type, double[] values, int... shape) {
        Tensor x = cpu.allocate(type, shape);
        if (type == DType.BF16) {
            short[] bits = new short[values.length];
            for (int i = 0; i < bits.length; i++) bits[i] = HalfFloats.floatToBf16((float) values[i]);
            cpu.upload(x, bits);
        } else {
            cpu.upload(x, values);
        }
        return x;
    }

    /** NaN-filled, so an element the kernel leaves unwritten shows. */
    private static Tensor poisoned(DType type, int... shape) {
        Tensor x = cpu.allocate(type, shape);
        cpu.fill(x, Double.NaN);
        return x;
    }

    /** Column third {@code part} of rows of 3c values. */
    private static double[] third(double[] fused, int part, int c) {
        int rows = fused.length / (3 * c);
        double[] out = new double[rows * c];
        for (int r = 0; r < rows; r++) System.arraycopy(fused, (r * 3 + part) * c, out, r * c, c);
        return out;
    }

    private static void assertSameBits(String what, double[] want, double[] got) {
        assertEquals(want.length, got.length, what + ": sizes");
        for (int i = 0; i < want.length; i++) {
            if (Double.doubleToRawLongBits(want[i]) != Double.doubleToRawLongBits(got[i])) {
                fail(what + ": element " + i + " is " + got[i] + " but must be exactly " + want[i]);
            }
        }
    }
}
