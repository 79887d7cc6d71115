package io.electra.engine;

import java.util.Locale;

/**
 * The arithmetic a model runs in. FP32: everything F32. BF16 (mixed precision): F32 master weights,
 * gradients and Adam moments; every GEMM and attention reads bf16 operands (persistent bf16 weight
 * copies, activations and gradients rounded on the way in) and accumulates in f32; GEMM outputs,
 * LayerNorm, softmax, GELU and the losses stay F32. On the CPU BF16 is an emulation for testing:
 * the same roundings, slower than FP32.
 */
public enum Precision {
    FP32, BF16;

    /** "fp32" or "bf16" (any case). */
    public static Precision parse(String s) {
        for (Precision p : values()) if (p.name().equalsIgnoreCase(s)) return p;
        throw new IllegalArgumentException("unknown precision '" + s + "' (expected fp32 or bf16)");
    }

    /** The default on a backend: BF16 on CUDA (tensor cores), FP32 on the CPU. */
    public static Precision defaultFor(Backend backend) {
        return backend.name().startsWith("cuda") ? BF16 : FP32;
    }

    /** "fp32" or "bf16", as the command line and the metrics write it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
