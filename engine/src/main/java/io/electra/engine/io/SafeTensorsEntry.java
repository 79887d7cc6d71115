package io.electra.engine.io;

import java.util.Arrays;

/**
 * One tensor of a safetensors file. {@code begin} and {@code end} are byte offsets into the data
 * section (which starts right after the header), as the header's {@code data_offsets} states them.
 */
public record SafeTensorsEntry(String name, SafeTensorsDType dtype, int[] shape, long begin, long end) {

    public SafeTensorsEntry {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a scalar of shape {@code []}). */
    public long elementCount() {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public long byteCount() {
        return end - begin;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SafeTensorsEntry e && name.equals(e.name) && dtype == e.dtype
                && Arrays.equals(shape, e.shape) && begin == e.begin && end == e.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
