package io.electra.kernels;

/** Host-side bf16 conversion, the same rounding as copy.cu (nearest even, NaN stays quiet NaN). */
final class Bf16 {
    private Bf16() {
    }

    static short fromFloat(float x) {
        int u = Float.floatToRawIntBits(x);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 0x0040);
        u += 0x7fff + ((u >>> 16) & 1);
        return (short) (u >>> 16);
    }

    static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
