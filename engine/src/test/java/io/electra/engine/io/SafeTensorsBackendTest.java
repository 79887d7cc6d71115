package io.electra.engine.io;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Backend tensors written through their backend, and files loaded into new backend tensors. */
class SafeTensorsBackendTest {
    @TempDir
    Path dir;

    private final CpuBackend backend = new CpuBackend(1);

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void backendTensorsOfEveryDtypeRoundTrip() throws IOException {
        Tensor f32 = backend.allocate(DType.F32, 2, 2);
        backend.upload(f32, new float[] {1.5f, -2f, 0.1f, 3e-8f});
        Tensor f64 = backend.allocate(DType.F64, 3);
        backend.upload(f64, new double[] {Math.E, -1e-300, 7});
        Tensor i32 = backend.allocate(DType.I32, 2);
        backend.upload(i32, new int[] {-9, Integer.MAX_VALUE});
        short[] bits = {(short) 0x3FC0, (short) 0xC2F7, 0x0000};
        Tensor bf16 = backend.allocate(DType.BF16, 3);
        backend.upload(bf16, bits);
        Path p = dir.resolve("t.safetensors");
        new SafeTensorsWriter().add("f32", f32).add("f64", f64).add("i32", i32).add("bf16", bf16).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(SafeTensorsDType.BF16, f.entry("bf16").dtype());
            assertArrayEquals(new int[] {2, 2}, f.entry("f32").shape());
            assertArrayEquals(new float[] {1.5f, -2f, 0.1f, 3e-8f}, f.readFloat("f32"));
            assertArrayEquals(new double[] {Math.E, -1e-300, 7}, f.readDouble("f64"));
            assertArrayEquals(new int[] {-9, Integer.MAX_VALUE}, f.readInt("i32"));
            // 0x3FC0 = 1.5, 0xC2F7 = -123.5
            assertArrayEquals(new float[] {1.5f, -123.5f, 0f}, f.readFloat("bf16"));

            Tensor loaded = f.load("bf16", backend, DType.BF16);
            assertArrayEquals(new float[] {1.5f, -123.5f, 0f}, backend.downloadFloat(loaded));
            assertEquals("bf16", loaded.name());
            Tensor asF64 = f.load("f32", backend, DType.F64);
            assertArrayEquals(new double[] {1.5f, -2f, 0.1f, 3e-8f}, backend.downloadDouble(asF64));
            assertArrayEquals(new int[] {2, 2}, asF64.shape());
            Tensor ids = f.load("i32", backend, DType.I32);
            assertArrayEquals(new int[] {-9, Integer.MAX_VALUE}, backend.downloadInt(ids));
            // F32 to BF16 rounds to nearest even: 0.1f = 0x3DCCCCCD -> 0x3DCD
            Tensor rounded = f.load("f32", backend, DType.BF16);
            assertEquals(HalfFloats.bf16ToFloat((short) 0x3DCD), backend.downloadFloat(rounded)[2]);
        }
    }

    @Test
    void loadingFloatsAsIntsIsRefusedAndFreesTheTensor() throws IOException {
        Path p = dir.resolve("f.safetensors");
        new SafeTensorsWriter().add("w", new float[] {1, 2}, 2).write(p);
        long before = backend.memoryStats().persistentBytes();
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertThrows(IllegalArgumentException.class, () -> f.load("w", backend, DType.I32));
        }
        assertEquals(before, backend.memoryStats().persistentBytes(), "the half-made tensor was freed");
    }
}
