package io.electra.kernels.runtime;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What driver the committed PTX needs. A driver JIT-compiles PTX only up to the ISA version of
 * its own CUDA release, so the {@code .version} line of the PTX fixes the oldest usable driver
 * (as the CUDA version {@code cuDriverGetVersion} reports: 13000 for CUDA 13.0, driver 580).
 */
public final class PtxVersion {
    private static final Pattern VERSION = Pattern.compile("(?m)^\\.version\\s+(\\d+)\\.(\\d+)\\s*$");

    private PtxVersion() {
    }

    /** The ISA version of a PTX text as {major, minor}. */
    public static int[] isa(byte[] ptx, String file) {
        String head = new String(ptx, 0, Math.min(ptx.length, 4096), StandardCharsets.US_ASCII);
        Matcher m = VERSION.matcher(head);
        if (!m.find()) throw new IllegalStateException(file + ": no '.version X.Y' line in the first 4 KB of the PTX");
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    /**
     * The oldest CUDA driver version (cuDriverGetVersion form, 1000 * major + 10 * minor) that
     * accepts PTX ISA {@code major.minor}, from the PTX ISA release notes: ISA 7.x came with
     * CUDA 11.x, 8.0-8.5 with CUDA 12.0-12.5, 8.6 with 12.7, 8.7 with 12.8, 8.8 with 12.9,
     * 9.0 with 13.0, 9.1 with 13.1.
     */
    public static int requiredDriver(int major, int minor) {
        if (major == 7 && minor <= 8) return 11000 + 10 * minor;
        if (major == 8 && minor <= 5) return 12000 + 10 * minor;
        if (major == 8 && minor <= 8) return 12000 + 10 * (minor + 1);
        if (major == 9 && minor <= 1) return 13000 + 10 * minor;
        throw new IllegalStateException("PTX ISA " + major + "." + minor
                + " is not in the table of PtxVersion.requiredDriver; add its CUDA release");
    }

    /** "13.0" from 13000. */
    public static String cudaVersion(int driverVersion) {
        return driverVersion / 1000 + "." + (driverVersion % 1000) / 10;
    }
}
