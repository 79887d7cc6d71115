package io.electra.engine.io;

/**
 * The element types a safetensors header may name. Every one can be listed; only those marked
 * {@code convertible} can be read as numbers (the others exist so that files holding them still open).
 */
public enum SafeTensorsDType {
    BOOL(1, false), U8(1, false), I8(1, false), F8_E5M2(1, false), F8_E4M3(1, false),
    I16(2, false), U16(2, false), F16(2, true), BF16(2, true),
    I32(4, true), U32(4, false), F32(4, true),
    I64(8, true), U64(8, false), F64(8, true);

    /** Bytes per element. */
    public final int bytes;
    /** Whether {@link SafeTensorsFile} converts this type to Java numbers. */
    public final boolean convertible;

    SafeTensorsDType(int bytes, boolean convertible) {
        this.bytes = bytes;
        this.convertible = convertible;
    }

    /** The type named {@code s} in a header, or null when the format has no such type. */
    static SafeTensorsDType parse(String s) {
        for (SafeTensorsDType t : values()) {
            if (t.name().equals(s)) return t;
        }
        return null;
    }
}
