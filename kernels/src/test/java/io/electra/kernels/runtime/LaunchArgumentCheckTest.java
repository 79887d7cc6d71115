package io.electra.kernels.runtime;

import jcuda.driver.CUstream;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every launch is held against its kernel's PTX parameter list before cuLaunchKernel: ptr and i64
 * fill 8-byte integer parameters, i32 4-byte ones, f32 .f32 ones, and the counts must agree. Runs
 * without a device: the kernels here have no CUfunction, and a launch that passed the check would
 * reach the driver, which is absent.
 */
class LaunchArgumentCheckTest {
    private static final long STEP_OFFSET_WORD = 0x7f00_0000_1000L;
    private final Kernel dropout = kernel(Family.DROPOUT, "dropout_forward");
    private final KernelArgs args = new KernelArgs();

    @Test
    void theLaunchersListForDropoutForwardPasses() {
        assertDoesNotThrow(() -> dropout.checkArguments(dropoutArgs()));
    }

    @Test
    void ptrAndI64BothFillAnEightByteParameter() {
        // n (parameter 4) passed as ptr, step_offset (9) as i64: the PTX cannot tell them apart, so neither can the check
        args.reset().ptr(1).ptr(2).f32(0.1f).f32(1.1f).ptr(100).i32(1).i32(0).i32(3).i32(4).i64(STEP_OFFSET_WORD);
        assertDoesNotThrow(() -> dropout.checkArguments(args));
    }

    @Test
    void aMissingTrailingArgumentIsNamedWithItsPtxDeclaration() {
        args.reset().ptr(1).ptr(2).f32(0.1f).f32(1.1f).i64(100).i32(1).i32(0).i32(3).i32(4);  // no step_offset
        assertEquals("dropout_forward (module dropout.ptx): argument 9 of 10 is missing: the PTX declares .u64 "
                + "dropout_forward_param_9; passed (ptr, ptr, f32, f32, i64, i32, i32, i32, i32), declared "
                + "(.u64, .u64, .f32, .f32, .u64, .u32, .u32, .u32, .u32, .u64)", failure(dropout));
    }

    @Test
    void anExtraArgumentIsNamed() {
        dropoutArgs().i32(7);
        assertTrue(failure(dropout).startsWith("dropout_forward (module dropout.ptx): argument 10 (i32) is one too many: "
                + "the PTX declares 10 parameters"), failure(dropout));
    }

    @Test
    void anI32WhereThePtxTakesSixtyFourBitsIsNamed() {
        args.reset().ptr(1).ptr(2).f32(0.1f).f32(1.1f).i32(100).i32(1).i32(0).i32(3).i32(4).ptr(STEP_OFFSET_WORD);
        assertTrue(failure(dropout).startsWith("dropout_forward (module dropout.ptx): argument 4 of 10 is i32 but the PTX "
                + "declares .u64 dropout_forward_param_4 (a pointer or 64-bit integer: pass ptr or i64)"), failure(dropout));
    }

    @Test
    void everyOtherKindMismatchIsNamed() {
        // i64 into .u32 (the seed's low word)
        args.reset().ptr(1).ptr(2).f32(0.1f).f32(1.1f).i64(100).i64(1).i32(0).i32(3).i32(4).ptr(STEP_OFFSET_WORD);
        assertTrue(failure(dropout).contains("argument 5 of 10 is i64 but the PTX declares .u32 dropout_forward_param_5 "
                + "(a 32-bit integer: pass i32)"), failure(dropout));
        // i32 into .f32 (p)
        args.reset().ptr(1).ptr(2).i32(0).f32(1.1f).i64(100).i32(1).i32(0).i32(3).i32(4).ptr(STEP_OFFSET_WORD);
        assertTrue(failure(dropout).contains("argument 2 of 10 is i32 but the PTX declares .f32 dropout_forward_param_2 "
                + "(a float: pass f32)"), failure(dropout));
        // f32 into .u32, ptr into .f32, f32 into .u64
        args.reset().ptr(1).ptr(2).f32(0.1f).f32(1.1f).i64(100).f32(1).i32(0).i32(3).i32(4).ptr(STEP_OFFSET_WORD);
        assertTrue(failure(dropout).contains("argument 5 of 10 is f32 but the PTX declares .u32"), failure(dropout));
        args.reset().ptr(1).ptr(2).ptr(0).f32(1.1f).i64(100).i32(1).i32(0).i32(3).i32(4).ptr(STEP_OFFSET_WORD);
        assertTrue(failure(dropout).contains("argument 2 of 10 is ptr but the PTX declares .f32"), failure(dropout));
        args.reset().f32(1).ptr(2).f32(0.1f).f32(1.1f).i64(100).i32(1).i32(0).i32(3).i32(4).ptr(STEP_OFFSET_WORD);
        assertTrue(failure(dropout).contains("argument 0 of 10 is f32 but the PTX declares .u64"), failure(dropout));
    }

    @Test
    void aParameterKernelArgsCannotPassRejectsEveryKind() {
        KernelSignature s = PtxSignatures.parse(".visible .entry by_value(\n\t.param .align 8 .b8 by_value_param_0[16]\n)\n",
                "struct.ptx").get("by_value");
        Kernel k = new Kernel(Family.COPY, "by_value", null, s);
        for (Runnable fill : new Runnable[] {() -> args.reset().ptr(1), () -> args.reset().i32(1), () -> args.reset().i64(1),
                () -> args.reset().f32(1)}) {
            fill.run();
            assertTrue(failure(k).contains("the PTX declares .align 8 .b8 by_value_param_0[16] (parameter 0) "
                    + "(a type KernelArgs cannot pass)"), failure(k));
        }
    }

    @Test
    void theLauncherChecksBeforeItReachesTheDriver() {
        Launcher launcher = new Launcher(new CUstream(), null, null, 1);
        launcher.args().ptr(1).ptr(2).f32(0.1f).f32(1.1f).i64(100).i32(1).i32(0).i32(3).i32(4);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> launcher.launch(dropout, 1, 256));
        assertTrue(e.getMessage().startsWith("dropout_forward (module dropout.ptx): argument 9 of 10 is missing"), e.getMessage());
    }

    @Test
    void checkingAMatchingLaunchAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int i = 0; i < 20_000; i++) sink += check(i);  // warm up: let the JIT compile the path
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) sink += check(i);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(sink != 0);
        assertTrue(allocated < 4096, "checking 100000 launches allocated " + allocated + " bytes");
    }

    private long check(int i) {
        args.reset().ptr(1000L + i).ptr(2000L).f32(0.1f).f32(1.1f).i64(i).i32(i).i32(0).i32(3).i32(4).ptr(STEP_OFFSET_WORD);
        dropout.checkArguments(args);
        return args.count();
    }

    /** DropoutKernels.run's list: out, in, p, 1/(1-p), n, then withKey's seed low, seed high, step, purpose, step-offset word. */
    private KernelArgs dropoutArgs() {
        return args.reset().ptr(1).ptr(2).f32(0.1f).f32(1f / 0.9f).i64(100).i32(1).i32(0).i32(3).i32(4).ptr(STEP_OFFSET_WORD);
    }

    private String failure(Kernel k) {
        return assertThrows(IllegalStateException.class, () -> k.checkArguments(args)).getMessage();
    }

    private static Kernel kernel(Family family, String name) {
        String ptx = new String(family.ptx(), StandardCharsets.US_ASCII);
        return new Kernel(family, name, null, PtxSignatures.parse(ptx, family.fileName()).get(name));
    }
}
