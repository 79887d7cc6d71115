package io.electra.kernels.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * The kernel families: one {@code kernels/src/main/cuda/<family>.cu} each, built into the
 * committed resource {@code /ptx/<family>.ptx}. PtxBuildTest checks this list against the sources.
 */
public enum Family {
    ADAMW, BCE, COPY, CROSSENTROPY, DROPOUT, ELEMENTWISE, EMBEDDING, FLASH_ATTENTION, GEMM, GEMM_TC, HEADS, LAYERNORM,
    MSE, REDUCE, SAMPLING, SOFTMAX, SORT;

    /** "layernorm". */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** "layernorm.ptx", the name errors use for the module. */
    public String fileName() {
        return id() + ".ptx";
    }

    /** The committed PTX text. */
    public byte[] ptx() {
        String resource = "/ptx/" + fileName();
        try (InputStream in = Family.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("PTX resource " + resource + " is missing from the kernels jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read PTX resource " + resource, e);
        }
    }
}
