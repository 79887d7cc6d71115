package io.electra.engine.cpu;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;

import java.util.Arrays;
import java.util.StringJoiner;

/**
 * Argument checks for one backend call, each failing with an {@link IllegalArgumentException} that
 * names the operation and describes the offending tensors ({@code "matmul: a F32[2, 3] ..."}).
 */
final class Check {
    private final Backend owner;
    private final String op;

    Check(Backend owner, String op) {
        this.owner = owner;
        this.op = op;
    }

    /** Throws for a null tensor, a tensor of another backend, or storage that does not match its dtype. */
    Check owned(Tensor... tensors) {
        for (int i = 0; i < tensors.length; i++) {
            Tensor t = tensors[i];
            if (t == null) fail("tensor argument " + (i + 1) + " is null");
            if (t.backend() != owner) fail(t.describe() + " belongs to backend " + t.backend() + ", not this one");
            if (CpuStorage.dtypeOf(t.storage()) != t.dtype()) fail(t.describe() + " has storage that is not " + t.dtype());
            if (t.offset() < 0 || t.offset() + t.size() > CpuStorage.length(t.storage())) {
                fail(t.describe() + " at offset " + t.offset() + " runs past its storage");
            }
        }
        return this;
    }

    /** All F32, or all F64: the float kernels' contract. */
    Check floats(Tensor... tensors) {
        owned(tensors);
        DType first = tensors[0].dtype();
        boolean ok = first == DType.F32 || first == DType.F64;
        for (Tensor t : tensors) ok &= t.dtype() == first;
        if (!ok) fail("expected all F32 or all F64, got " + list(tensors));
        return this;
    }

    /** Each F32 or BF16 (a layout change that also converts), or all F64. */
    Check floatsOrBf16(Tensor... tensors) {
        owned(tensors);
        boolean f64 = tensors[0].dtype() == DType.F64, ok = true;
        for (Tensor t : tensors) {
            ok &= f64 ? t.dtype() == DType.F64 : (t.dtype() == DType.F32 || t.dtype() == DType.BF16);
        }
        if (!ok) fail("expected each F32 or BF16, or all F64, got " + list(tensors));
        return this;
    }

    /** All BF16: the mixed-precision operands of matmul and attention. */
    Check bf16(Tensor... tensors) {
        owned(tensors);
        for (Tensor t : tensors) if (t.dtype() != DType.BF16) fail("expected BF16, got " + list(tensors));
        return this;
    }

    /** Each tensor F32, as the fp32 statistics and outputs of the bf16 paths are. */
    Check f32(Tensor... tensors) {
        owned(tensors);
        for (Tensor t : tensors) if (t.dtype() != DType.F32) fail("expected F32, got " + t.describe());
        return this;
    }

    Check ints(Tensor... tensors) {
        owned(tensors);
        for (Tensor t : tensors) if (t.dtype() != DType.I32) fail("expected I32, got " + t.describe());
        return this;
    }

    Check shape(Tensor t, int... shape) {
        if (!t.sameShape(shape)) fail("expected " + t.describe() + " to have shape " + Arrays.toString(shape));
        return this;
    }

    Check sameShape(Tensor... tensors) {
        for (Tensor t : tensors) if (!t.sameShape(tensors[0])) fail("shapes differ: " + list(tensors));
        return this;
    }

    Check sameSize(Tensor... tensors) {
        for (Tensor t : tensors) if (t.size() != tensors[0].size()) fail("sizes differ: " + list(tensors));
        return this;
    }

    Check size(Tensor t, long size) {
        if (t.size() != size) fail("expected " + t.describe() + " to hold " + size + " elements");
        return this;
    }

    /** A vector of exactly {@code n} elements, [n]. */
    Check vector(Tensor t, int n) {
        if (t.rank() != 1 || t.dim(0) != n) fail("expected " + t.describe() + " to have shape [" + n + "]");
        return this;
    }

    /** Shape [] or [1]. */
    Check scalar(Tensor t) {
        if (t.size() != 1 || t.rank() > 1) fail("expected scalar (shape [] or [1]), got " + t.describe());
        return this;
    }

    Check rank(Tensor t, int rank) {
        if (t.rank() != rank) fail("expected rank " + rank + ", got " + t.describe());
        return this;
    }

    /** Two outputs or an output and an input that would be corrupted by sharing elements. */
    Check disjoint(Tensor out, Tensor in) {
        if (out.storage() == in.storage() && out.offset() < in.offset() + in.size()
                && in.offset() < out.offset() + out.size()) {
            fail(out.describe() + " overlaps " + in.describe());
        }
        return this;
    }

    /** Every index in [0, limit) (I32 values such as token ids or row positions). */
    Check indicesBelow(Tensor index, int limit) {
        int bad = EmbeddingCpu.firstOutOfRange(index, limit);
        if (bad >= 0) {
            fail(index.describe() + " element " + bad + " = " + Elements.getInt(index, bad) + " is outside [0, " + limit + ")");
        }
        return this;
    }

    Check that(boolean condition, String message) {
        if (!condition) fail(message);
        return this;
    }

    void fail(String message) {
        throw new IllegalArgumentException(op + ": " + message);
    }

    private static String list(Tensor... tensors) {
        StringJoiner j = new StringJoiner(", ");
        for (Tensor t : tensors) j.add(t.describe());
        return j.toString();
    }
}
