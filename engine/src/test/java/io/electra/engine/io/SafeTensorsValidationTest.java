package io.electra.engine.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every malformed file is refused with an error that names the file, the tensor and what is wrong. */
class SafeTensorsValidationTest {
    @TempDir
    Path dir;

    private static final String ONE = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    private void assertRefused(Path file, String... fragments) {
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> {
            try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
                f.names();
            }
        });
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()), "message should name the file: " + msg);
        for (String fragment : fragments) {
            assertTrue(msg.contains(fragment), "message should contain '" + fragment + "': " + msg);
        }
    }

    @Test
    void wellFormedFileOpens() throws IOException {
        Path p = RawSafeTensors.write(dir.resolve("ok.safetensors"), ONE, RawSafeTensors.floats(1.5f, -2f));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new float[] {1.5f, -2f}, f.readFloat("w"));
        }
    }

    @Test
    void fileShorterThanTheLengthPrefixIsTruncated() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        assertRefused(p, "truncated", "3 bytes");
    }

    @Test
    void headerLengthOver100MegabytesIsRefused() throws IOException {
        Path p = RawSafeTensors.write(dir.resolve("huge.safetensors"), 100L * 1024 * 1024 + 1, ONE,
                RawSafeTensors.floats(1, 2));
        assertRefused(p, "header length 104857601", "limit");
    }

    @Test
    void negativeHeaderLengthIsRefused() throws IOException {
        Path p = RawSafeTensors.write(dir.resolve("neg.safetensors"), -1, ONE, new byte[0]);
        assertRefused(p, "header length 18446744073709551615");
    }

    @Test
    void headerLengthPastEndOfFileIsRefused() throws IOException {
        Path p = RawSafeTensors.write(dir.resolve("past.safetensors"), 5000, ONE, RawSafeTensors.floats(1, 2));
        assertRefused(p, "header length 5000", "past the end of the file");
    }

    @Test
    void badJsonIsRefused() throws IOException {
        Path p = RawSafeTensors.write(dir.resolve("json.safetensors"), "{\"w\":{\"dtype\":", new byte[0]);
        assertRefused(p, "not valid JSON");
    }

    @Test
    void duplicateKeysAreRefused() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        Path p = RawSafeTensors.write(dir.resolve("dup.safetensors"), h, RawSafeTensors.floats(1, 2));
        assertRefused(p, "not valid JSON", "Duplicate field 'w'");
    }

    @Test
    void headerThatIsNotAnObjectIsRefused() throws IOException {
        Path p = RawSafeTensors.write(dir.resolve("arr.safetensors"), "[1,2]", new byte[0]);
        assertRefused(p, "must be a JSON object");
    }

    @Test
    void missingFieldsAreRefused() throws IOException {
        String noDtype = "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("a.safetensors"), noDtype, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "'dtype'");
        String noShape = "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("b.safetensors"), noShape, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "'shape'");
        String noOffsets = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("c.safetensors"), noOffsets, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "'data_offsets'");
    }

    @Test
    void invalidFieldValuesAreRefused() throws IOException {
        String textShape = "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("a.safetensors"), textShape, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "shape[0] is not an integer");
        String fractional = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("b.safetensors"), fractional, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "data_offsets[1]");
        String threeOffsets = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("c.safetensors"), threeOffsets, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "[begin, end]");
        String numericMetadata = "{\"__metadata__\":{\"format\":1}}";
        assertRefused(RawSafeTensors.write(dir.resolve("d.safetensors"), numericMetadata, new byte[0]),
                "__metadata__", "'format'");
    }

    @Test
    void unknownDtypeIsRefused() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("dt.safetensors"), h, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "unknown dtype 'F33'");
    }

    @Test
    void negativeDimensionIsRefused() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("neg.safetensors"), h, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "negative dimension -2");
    }

    @Test
    void beginAfterEndIsRefused() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("rev.safetensors"), h, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "begin 8 > end 0");
    }

    @Test
    void shapeNotMatchingByteCountIsRefused() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("count.safetensors"), h, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "needs 12 bytes", "hold 8");
        String wrongDtype = "{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("dtype.safetensors"), wrongDtype, RawSafeTensors.floats(1, 2)),
                "tensor 'w'", "F64 needs 16 bytes");
    }

    @Test
    void offsetsPastTheDataAreRefusedAsTruncated() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        // the header promises 12 bytes of data; the file stops after 8
        assertRefused(RawSafeTensors.write(dir.resolve("trunc.safetensors"), h, RawSafeTensors.floats(1, 2)),
                "tensor 'b'", "past the end of the data section (8 bytes)", "truncated");
    }

    @Test
    void overlappingTensorsAreRefused() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertRefused(RawSafeTensors.write(dir.resolve("overlap.safetensors"), h, RawSafeTensors.floats(1, 2, 3)),
                "tensor 'b'", "overlap tensor 'a'");
    }

    @Test
    void scalarsAndEmptyTensorsAreValid() throws IOException {
        String h = "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[4,4]},"
                + "\"z\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[2,2]}}";
        Path p = RawSafeTensors.write(dir.resolve("scalar.safetensors"), h, RawSafeTensors.floats(7.25f));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new float[] {7.25f}, f.readFloat("s"));
            assertArrayEquals(new int[0], f.entry("s").shape());
            assertEquals(0, f.readFloat("e").length);
            assertEquals(0, f.readLong("z").length);
        }
    }

    @Test
    void readingAnAbsentTensorNamesTheFileAndTheTensor() throws IOException {
        Path p = RawSafeTensors.write(dir.resolve("ok.safetensors"), ONE, RawSafeTensors.floats(1, 2));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.readFloat("nope"));
            assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("'nope'"), e.getMessage());
        }
    }

    @Test
    void i64ValueBeyondIntRangeIsRefusedByReadInt() throws IOException {
        String h = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]}}";
        Path p = RawSafeTensors.write(dir.resolve("big.safetensors"), h, RawSafeTensors.longs(1, -5, 1L << 31));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new long[] {1, -5, 1L << 31}, f.readLong("ids"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.readInt("ids"));
            assertTrue(e.getMessage().contains("'ids'") && e.getMessage().contains("2147483648")
                    && e.getMessage().contains("element 2"), e.getMessage());
        }
    }
}
