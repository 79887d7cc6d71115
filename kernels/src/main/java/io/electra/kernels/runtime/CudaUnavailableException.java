package io.electra.kernels.runtime;

/** No usable CUDA device; the message says why in words a user can act on. */
public final class CudaUnavailableException extends Exception {
    public CudaUnavailableException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
