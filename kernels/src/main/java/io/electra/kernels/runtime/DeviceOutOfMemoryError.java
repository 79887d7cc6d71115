package io.electra.kernels.runtime;

/** The device could not satisfy an allocation even after the allocator released its cache. */
public final class DeviceOutOfMemoryError extends RuntimeException {
    public DeviceOutOfMemoryError(String message, Throwable cause) {
        super(message, cause);
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
