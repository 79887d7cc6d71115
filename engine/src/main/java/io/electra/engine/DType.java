package io.electra.engine;

/** Element types a tensor can hold. F64 exists on the CPU only, for gradient checks. */
public enum DType {
    F32(4), BF16(2), I32(4), F64(8);

    /** Bytes per element. */
    public final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public boolean isFloating() {
        return this != I32;
    }
}
