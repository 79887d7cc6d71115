package io.electra.kernels.runtime;

import jcuda.NativePointerObject;
import jcuda.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The argument block of a launch, built without allocating: one direct buffer of 8-byte slots
 * and, made once, the {@code void*[]} that points at them ({@code kernelParams} of
 * cuLaunchKernel), one per argument count. A launch writes its values into the slots and passes
 * the array for its count; the driver copies the values at launch, so the slots are free again
 * as soon as cuLaunchKernel returns. Each slot also records which method wrote it, so the launch
 * can be held against the kernel's PTX signature (KernelSignature) first.
 */
public final class KernelArgs {
    static final int MAX_ARGS = 32;
    /** What wrote a slot. */
    static final byte PTR = 1, I32 = 2, I64 = 3, F32 = 4;
    private final ByteBuffer slots = ByteBuffer.allocateDirect(8 * MAX_ARGS).order(ByteOrder.nativeOrder());
    private final Pointer[] paramsByCount = new Pointer[MAX_ARGS + 1];
    private final byte[] kinds = new byte[MAX_ARGS];
    private int count;

    KernelArgs() {
        Pointer[] slotPointers = new Pointer[MAX_ARGS];
        for (int i = 0; i < MAX_ARGS; i++) {
            slotPointers[i] = Pointer.to(slots.slice(8 * i, 8));
        }
        for (int n = 0; n <= MAX_ARGS; n++) {
            NativePointerObject[] first = new NativePointerObject[n];
            System.arraycopy(slotPointers, 0, first, 0, n);
            paramsByCount[n] = Pointer.to(first);
        }
    }

    KernelArgs reset() {
        count = 0;
        return this;
    }

    /** A device address (a pointer parameter). */
    public KernelArgs ptr(long address) {
        slots.putLong(slot(PTR), address);
        return this;
    }

    public KernelArgs i32(int v) {
        slots.putInt(slot(I32), v);
        return this;
    }

    public KernelArgs i64(long v) {
        slots.putLong(slot(I64), v);
        return this;
    }

    public KernelArgs f32(float v) {
        slots.putFloat(slot(F32), v);
        return this;
    }

    private int slot(byte kind) {
        if (count == MAX_ARGS) throw new IllegalStateException("more than " + MAX_ARGS + " kernel arguments");
        kinds[count] = kind;
        return 8 * count++;
    }

    Pointer params() {
        return paramsByCount[count];
    }

    int count() {
        return count;
    }

    /** What wrote slot {@code i} (one of PTR, I32, I64, F32). */
    byte kind(int i) {
        return kinds[i];
    }

    /** "ptr", "i32", "i64", "f32": the method that writes a kind, for messages. */
    static String kindName(byte kind) {
        return switch (kind) {
            case PTR -> "ptr";
            case I32 -> "i32";
            case I64 -> "i64";
            case F32 -> "f32";
            default -> "kind " + kind;
        };
    }

    /** The slot buffer, for tests of the layout. */
    java.nio.ByteBuffer slotsForTest() {
        return slots.duplicate();
    }
}
