package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Memory operations, dtype conversions and argument validation. */
class CpuBackendTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void bf16ConversionRoundsToNearestEven() {
        // bf16 keeps 7 fraction bits: near 1 its spacing is 2^-7.
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even pattern, 1.
        // 1 + 3*2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up to 1 + 2^-6.
        // 1 + 2^-8 + 2^-20 is just above halfway: rounds up to 1 + 2^-7.
        float[] in = {1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 1 + 0x1p-8f + 0x1p-20f, -2.5f, Float.NaN, Float.MAX_VALUE};
        Tensor f = cpu.allocate(DType.F32, in.length), b = cpu.allocate(DType.BF16, in.length);
        cpu.upload(f, in);
        cpu.copy(b, f);
        float[] back = cpu.downloadFloat(b);
        assertEquals(1f, back[0]);
        assertEquals(1 + 0x1p-6f, back[1]);
        assertEquals(1 + 0x1p-7f, back[2]);
        assertEquals(-2.5f, back[3]);
        assertTrue(Float.isNaN(back[4]), "NaN stays NaN");
        assertEquals(Float.POSITIVE_INFINITY, back[5], "the largest float rounds up past bf16's largest finite value");
    }

    @Test
    void copyConvertsBetweenFloatTypesAndHonoursOffsets() {
        Tensor d = cpu.allocate(DType.F64, 4, 2), f = cpu.allocate(DType.F32, 3, 2);
        cpu.upload(d, new double[]{0, 1, 2, 3, 4, 5, 6, 7});
        cpu.copy(f.rows(1, 2), d.rows(2, 2)); // elements 4..7 of d into elements 2..5 of f
        assertArrayEquals(new float[]{0, 0, 4, 5, 6, 7}, cpu.downloadFloat(f));
        assertArrayEquals(new double[]{4, 5}, cpu.downloadDouble(f.rows(1, 1)));
        cpu.fill(f.rows(0, 1), -1);
        assertArrayEquals(new float[]{-1, -1, 4, 5, 6, 7}, cpu.downloadFloat(f));
        Tensor ids = cpu.allocate(DType.I32, 2, 2);
        cpu.upload(ids.rows(1, 1), new int[]{8, 9});
        assertArrayEquals(new int[]{0, 0, 8, 9}, cpu.downloadInt(ids));
    }

    @Test
    void wrongDtypesAndShapesAreRejectedNamingTheTensors() {
        Tensor x = cpu.allocate(DType.F32, 2, 3).named("hidden");
        Tensor y = cpu.allocate(DType.F64, 2, 3).named("out");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.geluForward(y, x));
        assertTrue(e.getMessage().contains("geluForward") && e.getMessage().contains("hidden F32[2, 3]")
                && e.getMessage().contains("out F64[2, 3]"), e.getMessage());
        Tensor bias = cpu.allocate(DType.F32, 4).named("bias");
        e = assertThrows(IllegalArgumentException.class, () -> cpu.biasAdd(x, x, bias));
        assertTrue(e.getMessage().contains("bias F32[4]"), e.getMessage());
        Tensor ids = cpu.allocate(DType.I32, 2).named("ids");
        cpu.upload(ids, new int[]{0, 5});
        Tensor table = cpu.allocate(DType.F32, 5, 3).named("table");
        e = assertThrows(IllegalArgumentException.class, () -> cpu.embeddingForward(x, table, ids));
        assertTrue(e.getMessage().contains("ids I32[2] element 1 = 5"), e.getMessage());
        Tensor p = cpu.allocate(DType.F32, 2);
        e = assertThrows(IllegalArgumentException.class, () -> cpu.dropoutForward(p, p, 1f, null));
        assertTrue(e.getMessage().contains("[0, 1)"), e.getMessage());
    }

    @Test
    void tensorsOfAnotherBackendAndDoubleFreesAreRejected() {
        try (CpuBackend other = new CpuBackend(1)) {
            Tensor foreign = other.allocate(DType.F32, 2).named("foreign");
            Tensor mine = cpu.allocate(DType.F32, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.scale(mine, foreign, 2));
            assertTrue(e.getMessage().contains("foreign F32[2]"), e.getMessage());
        }
        Tensor t = cpu.allocate(DType.F32, 3);
        cpu.free(t);
        assertThrows(IllegalArgumentException.class, () -> cpu.free(t));
    }

    @Test
    void threadCountIsSettable() {
        try (CpuBackend one = new CpuBackend(1); CpuBackend three = new CpuBackend(3)) {
            assertEquals(1, one.threads());
            assertEquals(3, three.threads());
            // The same reduction on any number of threads gives the same bits.
            double[] v = new double[100_003];
            for (int i = 0; i < v.length; i++) v[i] = Math.sin(i) * 1e3;
            Tensor a = one.allocate(DType.F64, v.length), b = three.allocate(DType.F64, v.length);
            one.upload(a, v);
            three.upload(b, v);
            Tensor sa = one.allocate(DType.F64), sb = three.allocate(DType.F64);
            one.sum(sa, a, 1);
            three.sum(sb, b, 1);
            assertEquals(one.downloadDouble(sa)[0], three.downloadDouble(sb)[0]);
        }
    }
}
