package io.electra.kernels;

import io.electra.engine.io.HalfFloats;

/** Host-side bf16 conversion: the engine's rounding (nearest even, NaN stays quiet NaN), as copy.cu does it. */
final class Bf16 {
    private Bf16() {
    }

    static short fromFloat(float x) {
        return HalfFloats.floatToBf16(x);
    }

    static float toFloat(short bits) {
        return HalfFloats.bf16ToFloat(bits);
    }
}
