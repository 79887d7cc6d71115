package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.MemoryStats;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuArenaTest {

    /** One "training step": the same sizes in the same order, with a scribble on each tensor. */
    private static void step(CpuBackend cpu) {
        Tensor a = cpu.allocateTemp(DType.F32, 16, 32);
        Tensor b = cpu.allocateTemp(DType.I32, 16);
        Tensor c = cpu.allocateTemp(DType.F64, 3, 5);
        Tensor d = cpu.allocateTemp(DType.BF16, 7);
        for (Tensor t : new Tensor[]{a, b, c, d}) {
            assertEquals(0.0, sumOf(cpu, t), "arena tensors are zero-filled: " + t.describe());
            cpu.fill(t, 3);
        }
    }

    private static double sumOf(CpuBackend cpu, Tensor t) {
        double s = 0;
        for (double v : cpu.downloadDouble(t)) s += Math.abs(v);
        return s;
    }

    @Test
    void warmStepAllocatesNothingNew() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            step(cpu);
            assertEquals(4, cpu.memoryStats().arenaAllocationsSinceWarm(), "the first step allocates each tensor");
            MemoryStats cold = cpu.memoryStats();
            for (int i = 0; i < 3; i++) {
                cpu.resetArena();
                step(cpu);
                MemoryStats warm = cpu.memoryStats();
                assertEquals(0, warm.arenaAllocationsSinceWarm(), "warm step " + i);
                assertEquals(cold.arenaCapacityBytes(), warm.arenaCapacityBytes());
                assertEquals(16 * 32 * 4 + 16 * 4 + 15 * 8 + 7 * 2, warm.arenaBytesInUse());
            }
        }
    }

    @Test
    void smallerRequestReusesALargerSlotAndAChangedShapeAllocatesOnce() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            cpu.allocateTemp(DType.F32, 100);
            cpu.resetArena();
            cpu.allocateTemp(DType.F32, 60);
            assertEquals(0, cpu.memoryStats().arenaAllocationsSinceWarm(), "60 floats fit in the 100-float slot");
            cpu.resetArena();
            cpu.allocateTemp(DType.F32, 200);
            assertEquals(1, cpu.memoryStats().arenaAllocationsSinceWarm(), "a larger request replaces the slot");
            cpu.resetArena();
            cpu.allocateTemp(DType.F32, 200);
            assertEquals(0, cpu.memoryStats().arenaAllocationsSinceWarm());
            assertEquals(800, cpu.memoryStats().arenaCapacityBytes());
        }
    }

    @Test
    void persistentBytesAndPeakAreCounted() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            Tensor p = cpu.allocate(DType.F32, 10, 10);
            cpu.allocateTemp(DType.F64, 50);
            MemoryStats s = cpu.memoryStats();
            assertEquals(400, s.persistentBytes());
            assertEquals(400, s.arenaCapacityBytes());
            assertTrue(s.peakBytes() >= 800, "peak " + s.peakBytes());
            cpu.free(p);
            assertEquals(0, cpu.memoryStats().persistentBytes());
        }
    }

    /**
     * Unfilled arena storage skips the zero-fill; under the test suite's poison mode it holds NaN
     * (ints: MIN_VALUE) on first use and on reuse, so a kernel that leaves part of an output unwritten
     * poisons what follows. Filled requests of the same slot are zero again.
     */
    @Test
    void unfilledStorageIsPoisonedUnderTestAndFilledStorageIsZero() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("electra.poisonUnfilled"),
                "the build's surefire configuration sets electra.poisonUnfilled");
        try (CpuBackend cpu = new CpuBackend(1)) {
            for (int round = 0; round < 2; round++) {
                Tensor f = cpu.allocateTempUnfilled(DType.F32, 5), i = cpu.allocateTempUnfilled(DType.I32, 3);
                for (float v : cpu.downloadFloat(f)) assertTrue(Float.isNaN(v), "round " + round);
                for (int v : cpu.downloadInt(i)) assertEquals(Integer.MIN_VALUE, v);
                cpu.fill(f, 2);
                cpu.resetArena();
                Tensor z = cpu.allocateTemp(DType.F32, 5);
                assertEquals(0.0, sumOf(cpu, z), "a filled request of a slot that held NaN");
                cpu.resetArena();
            }
        }
    }
}
