package io.electra.kernels.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * The kernel families: one {@code kernels/src/main/cuda/<family>.cu} each, built into the
 * committed resource {@code /ptx/<family>.ptx}. PtxBuildTest checks this list against the sources.
 * Most are portable compute_80 PTX; a family with a target ({@code gemm_wgmma.sm_90a}) uses
 * instructions of one architecture only and is loaded only on a device of that compute capability.
 */
public enum Family {
    ADAMW, BCE, COPY, CROSSENTROPY, DROPOUT, ELEMENTWISE, EMBEDDING, FLASH_ATTENTION, GEMM, GEMM_TC,
    GEMM_WGMMA("sm_90a", 9, 0), HEADS, LAYERNORM, MSE, REDUCE, SAMPLING, SOFTMAX, SORT;

    private final String target;
    private final int major, minor;

    Family() {
        this(null, 8, 0);
    }

    Family(String target, int major, int minor) {
        this.target = target;
        this.major = major;
        this.minor = minor;
    }

    /** "layernorm", or "gemm_wgmma.sm_90a" for a family built for one architecture. */
    public String id() {
        return name().toLowerCase(Locale.ROOT) + (target == null ? "" : "." + target);
    }

    /** Whether a device of compute capability major.minor can load this family's PTX. */
    public boolean runsOn(int deviceMajor, int deviceMinor) {
        if (target == null) return deviceMajor > major || (deviceMajor == major && deviceMinor >= minor);
        return deviceMajor == major && deviceMinor == minor;  // "a" targets are not forward compatible
    }

    /** The architecture the PTX is built for, "sm_90a", or null for portable compute_80 PTX. */
    public String target() {
        return target;
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
