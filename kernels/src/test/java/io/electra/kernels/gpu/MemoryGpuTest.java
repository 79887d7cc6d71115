package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.DeviceBlock;
import io.electra.kernels.runtime.DeviceOutOfMemoryError;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static io.electra.engine.DType.BF16;
import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static jcuda.driver.JCudaDriver.cuMemGetAddressRange;

/** Allocation, transfers, fill, copy and BF16 conversion; the arena and the allocator's errors. */
@Tag("gpu")
class MemoryGpuTest {
    @Test
    void bf16ConversionRoundsLikeTheCpu() {
        try (Twins tw = new Twins(11)) {
            float[] values = {0f, -0f, 1f, 1.00390625f, 1.0078125f, 3.14159f, -2.5e-40f, 65504f, Float.MAX_VALUE, Float.NaN,
                    Float.POSITIVE_INFINITY, 1e-30f, -7.77e20f};
            Twin f = tw.floats(values, values.length), h = tw.zeros(BF16, values.length), back = tw.zeros(F32, values.length);
            tw.both(b -> b.copy(h.on(b), f.on(b)));
            tw.both(b -> b.copy(back.on(b), h.on(b)));
            tw.expectIdentical("copy_forward_f32_to_bf16+copy_forward_bf16_to_f32", tw.cpu.downloadFloat(back.cpu()),
                    tw.gpu.downloadFloat(back.gpu()));
        }
    }

    @Test
    void uploadDownloadFillAndCopyRoundTrip() {
        try (Twins tw = new Twins(12)) {
            Tensor t = tw.gpu.allocate(F32, 5, 7);
            float[] data = new float[35];
            for (int i = 0; i < data.length; i++) data[i] = i * 0.5f - 3;
            tw.gpu.upload(t, data);
            assertArrayEquals(data, tw.gpu.downloadFloat(t));
            assertArrayEquals(new float[] {14 * 0.5f - 3, 15 * 0.5f - 3}, java.util.Arrays.copyOfRange(tw.gpu.downloadFloat(t.rows(2, 1)), 0, 2));
            tw.gpu.fill(t.rows(1, 2), 2.5);
            float[] filled = tw.gpu.downloadFloat(t);
            for (int i = 7; i < 21; i++) assertEquals(2.5f, filled[i]);
            assertEquals(data[21], filled[21]);
            Tensor ints = tw.gpu.allocate(DType.I32, 4);
            tw.gpu.fill(ints, -3);
            assertArrayEquals(new int[] {-3, -3, -3, -3}, tw.gpu.downloadInt(ints));
            tw.gpu.free(t);
            tw.gpu.free(ints);
        }
    }

    @Test
    void warmStepsReuseTheArenaAndAllocateNothing() {
        try (Twins tw = new Twins(13)) {
            // The backend is shared by every gpu test class, so its arena may already be warm (and
            // smaller than this step): count only what the steps after this test's first allocate.
            long afterFirstStep = 0;
            for (int step = 0; step < 4; step++) {
                for (int i = 0; i < 50; i++) {
                    Tensor a = tw.gpu.allocateTemp(F32, 1024, 1024);  // 50 x 4 MiB: outgrows the first 64 MiB chunk
                    if (i == 49) assertEquals(0f, tw.gpu.downloadFloat(a)[12345], "arena tensors start zero-filled");
                }
                tw.gpu.resetArena();
                if (step == 0) afterFirstStep = tw.gpu.memoryStats().arenaAllocationsSinceWarm();
            }
            assertEquals(afterFirstStep, tw.gpu.memoryStats().arenaAllocationsSinceWarm(), "a warm step must not allocate");
        }
    }

    /**
     * The emulated test run's tight mode (see DeviceAllocator): each tensor, persistent or arena, is
     * a device allocation of exactly its bytes, so the emulator's guard page after it catches a
     * kernel that runs past it (kernels/emulator/test/fault_smoke.cpp shows the catch).
     */
    @Test
    void tightModeGivesEveryTensorAnAllocationOfItsOwn() {
        assumeTrue(Boolean.getBoolean("electra.cuda.tightAllocations"), "runs with -Delectra.cuda.tightAllocations=true");
        try (Twins tw = new Twins(15)) {
            Tensor persistent = tw.gpu.allocate(F32, 7), arenaA = tw.gpu.allocateTemp(BF16, 3, 5), arenaB = tw.gpu.allocateTemp(F32, 2);
            for (Tensor t : new Tensor[] {persistent, arenaA, arenaB}) {
                // an allocation of exactly the tensor's bytes that holds its first and its last byte starts at the first
                long bytes = t.size() * t.dtype().bytes, first = ((DeviceBlock) t.storage()).address();
                for (long at : new long[] {first, first + bytes - 1}) {
                    long[] size = new long[1];
                    cuMemGetAddressRange(new CUdeviceptr(), size, new CUdeviceptr().withByteOffset(at));
                    assertEquals(bytes, size[0], t + ": the allocation holding byte " + (at - first));
                }
            }
            tw.gpu.free(persistent);
            tw.gpu.resetArena();
        }
    }

    @Test
    void errorsNameWhatWentWrong() {
        try (Twins tw = new Twins(14)) {
            var oom = assertThrows(DeviceOutOfMemoryError.class, () -> tw.gpu.allocate(F32, 1 << 30, 1 << 12));
            assertTrue(oom.getMessage().contains("asked for") && oom.getMessage().contains("in use"), oom.getMessage());
            var f64 = assertThrows(IllegalArgumentException.class, () -> tw.gpu.allocate(DType.F64, 3));
            assertTrue(f64.getMessage().contains("F64"), f64.getMessage());
            Tensor t = tw.gpu.allocate(F32, 3);
            tw.gpu.free(t);
            var freed = assertThrows(IllegalArgumentException.class, () -> tw.gpu.scale(t, t, 2f));
            assertTrue(freed.getMessage().contains("freed"), freed.getMessage());
            Tensor temp = tw.gpu.allocateTemp(F32, 3);
            tw.gpu.resetArena();
            var stale = assertThrows(IllegalArgumentException.class, () -> tw.gpu.scale(temp, temp, 2f));
            assertTrue(stale.getMessage().contains("resetArena"), stale.getMessage());
            Tensor a = tw.gpu.allocate(F32, 2, 3), b = tw.gpu.allocate(F32, 4, 5), c = tw.gpu.allocate(F32, 2, 5);
            var shape = assertThrows(IllegalArgumentException.class, () -> tw.gpu.matmul(c, a, false, b, false, 1f, false));
            assertTrue(shape.getMessage().contains("gemm_forward_nn (module gemm.ptx)"), shape.getMessage());
        }
    }
}
