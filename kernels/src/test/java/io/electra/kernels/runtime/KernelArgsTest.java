package io.electra.kernels.runtime;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launch argument block: values land in 8-byte slots in native order, and building it allocates nothing. */
class KernelArgsTest {

    @Test
    void valuesLandInConsecutiveSlots() {
        KernelArgs args = new KernelArgs().reset().ptr(0x7f00_1234_5678L).i32(-7).f32(1.5f).i64(1L << 40);
        var slots = args.slotsForTest().order(ByteOrder.nativeOrder());
        assertEquals(0x7f00_1234_5678L, slots.getLong(0));
        assertEquals(-7, slots.getInt(8));
        assertEquals(1.5f, slots.getFloat(16));
        assertEquals(1L << 40, slots.getLong(24));
        assertEquals(4, args.count());
    }

    @Test
    void theParameterArrayIsMadeOncePerArgumentCount() {
        KernelArgs args = new KernelArgs();
        var first = args.reset().i32(1).i32(2).params();
        var again = args.reset().i32(3).i32(4).params();
        assertSame(first, again);
    }

    @Test
    void tooManyArgumentsIsAClearError() {
        KernelArgs args = new KernelArgs().reset();
        for (int i = 0; i < KernelArgs.MAX_ARGS; i++) args.i32(i);
        assertThrows(IllegalStateException.class, () -> args.i32(99));
    }

    @Test
    void buildingArgumentsAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        KernelArgs args = new KernelArgs();
        long sink = 0;
        for (int i = 0; i < 20_000; i++) sink += fill(args, i);  // warm up: let the JIT compile the path
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) sink += fill(args, i);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(sink != 0);
        assertTrue(allocated < 4096, "building 100000 argument blocks allocated " + allocated + " bytes");
    }

    private static long fill(KernelArgs args, int i) {
        args.reset().ptr(1000L + i).ptr(2000L).i32(i).f32(0.5f).i64(i).f32(2f);
        return args.params() != null ? args.count() : 0;
    }
}
