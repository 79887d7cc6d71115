package io.electra.engine.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Files over 2 GiB need several mapped windows; a tiny window on a small file makes tensors and single
 * elements straddle window boundaries the same way, without writing gigabytes.
 */
class SafeTensorsWindowTest {
    @TempDir
    Path dir;

    @Test
    void elementsStraddlingWindowsReadTheSameAsWithOneWindow() throws IOException {
        SplittableRandom rng = new SplittableRandom(7);
        float[] f32 = new float[301];
        double[] f64 = new double[77];
        long[] i64 = new long[53];
        int[] i32 = new int[41];
        short[] bf16 = new short[37];
        for (int i = 0; i < f32.length; i++) f32[i] = (float) rng.nextGaussian();
        for (int i = 0; i < f64.length; i++) f64[i] = rng.nextGaussian();
        for (int i = 0; i < i64.length; i++) i64[i] = rng.nextLong();
        for (int i = 0; i < i32.length; i++) i32[i] = rng.nextInt();
        for (int i = 0; i < bf16.length; i++) bf16[i] = (short) rng.nextInt(1 << 16);
        Path p = dir.resolve("w.safetensors");
        new SafeTensorsWriter().add("f32", f32, f32.length).add("f64", f64, f64.length).add("i64", i64, i64.length)
                .add("i32", i32, i32.length).addBits("bf16", SafeTensorsDType.BF16, bf16, bf16.length).write(p);
        // 13 bytes: not a multiple of any element size, so elements of every width straddle windows
        for (long window : new long[] {13, 7, 8, 4096}) {
            try (SafeTensorsFile f = SafeTensorsFile.open(p, window)) {
                assertArrayEquals(f32, f.readFloat("f32"), "window " + window);
                assertArrayEquals(f64, f.readDouble("f64"), "window " + window);
                assertArrayEquals(i64, f.readLong("i64"), "window " + window);
                assertArrayEquals(i32, f.readInt("i32"), "window " + window);
                float[] widened = f.readFloat("bf16");
                for (int i = 0; i < bf16.length; i++) {
                    assertEquals(Float.floatToRawIntBits(HalfFloats.bf16ToFloat(bf16[i])),
                            Float.floatToRawIntBits(widened[i]), "bf16 element " + i + " window " + window);
                }
            }
        }
    }

    @Test
    void tensorLargerThanTheStagingBufferReadsAcrossManyWindows() throws IOException {
        float[] big = new float[(SafeTensorsFile.STAGE_BYTES / 4) * 2 + 123];
        for (int i = 0; i < big.length; i++) big[i] = i * 0.5f - 7;
        Path p = dir.resolve("big.safetensors");
        new SafeTensorsWriter().add("tiny", new float[] {1}, 1).add("big", big, big.length).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p, 65_537)) {
            assertArrayEquals(big, f.readFloat("big"));
            assertArrayEquals(new float[] {1}, f.readFloat("tiny"));
        }
    }
}
