package io.electra.engine;

import java.util.Arrays;

/**
 * A contiguous, row-major block of elements owned by one backend.
 *
 * <p>There are no general strides: a tensor is {@code storage} starting at element {@code offset},
 * {@code size()} elements long. Layouts change only through explicit ops (split/merge heads,
 * transposing matmuls), which keeps every kernel simple. {@link #view} gives the same elements
 * another shape; {@link #rows} a contiguous range of leading-axis rows.
 */
public final class Tensor {
    private final Backend backend;
    private final DType dtype;
    private final int[] shape;
    private final long size;
    private final Object storage; // backend-specific: float[]/double[]/int[]/short[] on the CPU, a device buffer on the GPU
    private final long offset;    // in elements, into storage
    private final String name;

    public Tensor(Backend backend, DType dtype, int[] shape, Object storage, long offset, String name) {
        this.backend = backend;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.size = sizeOf(shape);
        this.storage = storage;
        this.offset = offset;
        this.name = name;
    }

    public static long sizeOf(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
        }
        return n;
    }

    public Backend backend() { return backend; }
    public DType dtype() { return dtype; }
    public int[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public long size() { return size; }
    public Object storage() { return storage; }
    public long offset() { return offset; }
    public String name() { return name; }

    /** Size of axis {@code i}; negative counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    /** Product of all axes but the last: the number of rows a row-wise kernel sees. */
    public int rowsFlat() {
        return shape.length == 0 ? 1 : Math.toIntExact(size / shape[shape.length - 1]);
    }

    /** The last axis: the row length a row-wise kernel sees. */
    public int cols() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** The same elements with another shape of the same size. */
    public Tensor view(int... newShape) {
        if (sizeOf(newShape) != size) {
            throw new IllegalArgumentException("cannot view " + describe() + " as " + Arrays.toString(newShape));
        }
        return new Tensor(backend, dtype, newShape, storage, offset, name);
    }

    /** Rows {@code [from, from+count)} of the leading axis, as a tensor sharing storage. */
    public Tensor rows(int from, int count) {
        if (shape.length == 0 || from < 0 || count < 0 || from + count > shape[0]) {
            throw new IllegalArgumentException("rows(" + from + ", " + count + ") out of range for " + describe());
        }
        int[] s = shape.clone();
        s[0] = count;
        long rowSize = size / Math.max(1, shape[0]);
        return new Tensor(backend, dtype, s, storage, offset + from * rowSize, name);
    }

    public Tensor named(String newName) {
        return new Tensor(backend, dtype, shape, storage, offset, newName);
    }

    public boolean sameShape(Tensor o) {
        return Arrays.equals(shape, o.shape);
    }

    public boolean sameShape(int... s) {
        return Arrays.equals(shape, s);
    }

    /** "name F32[2, 3]" for error messages. */
    public String describe() {
        return (name == null ? "tensor" : name) + " " + dtype + Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return describe();
    }
}
