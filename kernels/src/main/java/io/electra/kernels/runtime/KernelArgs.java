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
 * as soon as cuLaunchKernel returns.
 */
public final class KernelArgs {
    static final int MAX_ARGS = 24;
    private final ByteBuffer slots = ByteBuffer.allocateDirect(8 * MAX_ARGS).order(ByteOrder.nativeOrder());
    private final Pointer[] paramsByCount = new Pointer[MAX_ARGS + 1];
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
        slots.putLong(slot(), address);
        return this;
    }

    public KernelArgs i32(int v) {
        slots.putInt(slot(), v);
        return this;
    }

    public KernelArgs i64(long v) {
        slots.putLong(slot(), v);
        return this;
    }

    public KernelArgs f32(float v) {
        slots.putFloat(slot(), v);
        return this;
    }

    private int slot() {
        if (count == MAX_ARGS) throw new IllegalStateException("more than " + MAX_ARGS + " kernel arguments");
        return 8 * count++;
    }

    Pointer params() {
        return paramsByCount[count];
    }

    int count() {
        return count;
    }

    /** The slot buffer, for tests of the layout. */
    java.nio.ByteBuffer slotsForTest() {
        return slots.duplicate();
    }
}
