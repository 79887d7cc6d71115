package io.electra.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void everyDtypeSurvivesARoundTrip() throws IOException {
        float[] f32 = {0f, -0f, 1.5f, -3.25e-7f, Float.MAX_VALUE, Float.MIN_VALUE, Float.NEGATIVE_INFINITY, Float.NaN};
        double[] f64 = {Math.PI, -1e300, Double.MIN_VALUE, 0.1};
        int[] i32 = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 42, 7};
        long[] i64 = {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE};
        short[] bf16 = {(short) 0x3F80, (short) 0xC040, (short) 0x0001, (short) 0x7F80, (short) 0xBE20};
        byte[] u8 = {0, 1, (byte) 255};
        Path p = dir.resolve("all.safetensors");
        new SafeTensorsWriter()
                .metadata("format", "pt").metadata("note", "round trip")
                .add("f32", f32, 2, 4)
                .add("f64", f64, 4)
                .add("i32", i32, 3, 2)
                .add("i64", i64, 2, 1, 2)
                .addBits("bf16", SafeTensorsDType.BF16, bf16, 5)
                .addBits("f16", SafeTensorsDType.F16, F16_BITS, F16_BITS.length)
                .addRaw("u8", SafeTensorsDType.U8, u8, 3)
                .add("scalar", new float[] {2.5f})
                .write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt", "note", "round trip"), f.metadata());
            assertArrayEquals(new int[] {2, 4}, f.entry("f32").shape());
            assertBitsEqual(f32, f.readFloat("f32"));
            assertArrayEquals(f64, f.readDouble("f64"));
            assertArrayEquals(i32, f.readInt("i32"));
            assertArrayEquals(new int[] {3, 2}, f.entry("i32").shape());
            assertArrayEquals(i64, f.readLong("i64"));
            assertArrayEquals(new int[] {2, 1, 2}, f.entry("i64").shape());
            // bf16 0x3F80 = 1, 0xC040 = -3, 0x0001 = 2^-133 (subnormal), 0x7F80 = +inf, 0xBE20 = -0.15625
            assertArrayEquals(new float[] {1f, -3f, 0x1p-133f, Float.POSITIVE_INFINITY, -0.15625f}, f.readFloat("bf16"));
            assertBitsEqual(F16_VALUES, f.readFloat("f16"));
            assertArrayEquals(u8, f.readRaw("u8"));
            assertEquals(SafeTensorsDType.U8, f.entry("u8").dtype());
            assertArrayEquals(new float[] {2.5f}, f.readFloat("scalar"));
            assertArrayEquals(new int[0], f.entry("scalar").shape());
        }
    }

    /** Half-precision patterns and their values worked out from the IEEE 754 binary16 layout. */
    private static final short[] F16_BITS = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x3555,
            0x7C00, (short) 0x8000, 0x3800};
    private static final float[] F16_VALUES = {1f, -2f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, 0.333251953125f,
            Float.POSITIVE_INFINITY, -0f, 0.5f};

    @Test
    void conversionsBetweenNumericTypesAreExactWhereTheValueFits() throws IOException {
        Path p = dir.resolve("conv.safetensors");
        new SafeTensorsWriter()
                .add("i64", new long[] {-3, 1L << 40}, 2)
                .add("i32", new int[] {5, -7}, 2)
                .add("f32", new float[] {0.1f, -2f}, 2)
                .add("f64", new double[] {0.1, 1e300}, 2)
                .write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new float[] {-3f, 0x1p40f}, f.readFloat("i64"));
            assertArrayEquals(new double[] {5, -7}, f.readDouble("i32"));
            assertArrayEquals(new long[] {5, -7}, f.readLong("i32"));
            assertArrayEquals(new double[] {0.1f, -2f}, f.readDouble("f32"));
            assertArrayEquals(new float[] {0.1f, Float.POSITIVE_INFINITY}, f.readFloat("f64"));
        }
    }

    @Test
    void unsupportedDtypeIsListedButRefusedForConversion() throws IOException {
        Path p = dir.resolve("bool.safetensors");
        new SafeTensorsWriter().addRaw("flags", SafeTensorsDType.BOOL, new byte[] {1, 0}, 2).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(List.of("flags"), f.names());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.readFloat("flags"));
            assertTrue(e.getMessage().contains("'flags'") && e.getMessage().contains("BOOL")
                    && e.getMessage().contains("not supported for conversion"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> f.readInt("flags"));
        }
    }

    @Test
    void writtenHeaderIsSortedSpacePaddedAndEveryTensorIsAligned() throws IOException {
        Path p = dir.resolve("layout.safetensors");
        new SafeTensorsWriter()
                .metadata("format", "pt")
                .add("b.odd", new float[] {1, 2, 3}, 3)          // 12 bytes: would misalign a following F64
                .add("a.double", new double[] {4, 5}, 2)
                .addBits("c.half", SafeTensorsDType.BF16, new short[] {1}, 1)
                .add("A.ints", new long[] {9}, 1)
                .write(p);
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "data section must start 8-byte aligned");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\""), header);
        for (int i = header.stripTrailing().length(); i < header.length(); i++) assertEquals(' ', header.charAt(i));
        JsonNode root = new ObjectMapper().readTree(header);
        List<String> keys = new ArrayList<>();
        root.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("__metadata__", "A.ints", "a.double", "b.odd", "c.half"), keys);
        for (String k : keys.subList(1, keys.size())) {
            JsonNode e = root.get(k);
            long begin = e.get("data_offsets").get(0).longValue();
            int size = SafeTensorsDType.valueOf(e.get("dtype").textValue()).bytes;
            assertEquals(0, begin % size, k + " starts at " + begin + ", not aligned to " + size);
        }
        assertEquals(8 + n + 8 + 16 + 12 + 2, bytes.length, "no gaps and no trailing bytes");
    }

    @Test
    void rewriteReplacesTheFileAndLeavesNoTemporary() throws IOException {
        Path p = dir.resolve("model.safetensors");
        new SafeTensorsWriter().add("w", new float[] {1}, 1).write(p);
        new SafeTensorsWriter().add("w", new float[] {2, 3}, 2).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new float[] {2, 3}, f.readFloat("w"));
        }
        assertEquals(List.of(p), listDir());
    }

    @Test
    void failedWriteKeepsTheOldFileIntact() throws IOException {
        Path p = dir.resolve("model.safetensors");
        new SafeTensorsWriter().add("w", new float[] {1, 2}, 2).write(p);
        byte[] before = Files.readAllBytes(p);
        SafeTensorsWriter failing = new SafeTensorsWriter()
                .add("a", new float[] {5}, 1)
                .add("z", FailingBackend.tensor()); // fails while the data is being written
        assertThrows(IllegalStateException.class, () -> failing.write(p));
        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of(p), listDir());
    }

    @Test
    void badAddsAreRefused() {
        SafeTensorsWriter w = new SafeTensorsWriter().add("w", new float[] {1}, 1);
        assertThrows(IllegalArgumentException.class, () -> w.add("w", new float[] {1}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> w.add("x", new float[] {1, 2, 3}, 2, 2));
        assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("[2, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", new float[] {1}, 1));
    }

    private List<Path> listDir() throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            int e = Float.floatToIntBits(expected[i]), a = Float.floatToIntBits(actual[i]);
            if (e != a) throw new AssertionError("index " + i + ": expected " + expected[i] + " got " + actual[i]);
        }
    }
}
