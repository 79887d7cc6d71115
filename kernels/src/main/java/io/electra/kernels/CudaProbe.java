package io.electra.kernels;

import java.util.Optional;

/**
 * The answer of {@link CudaBackend#tryCreate()}: a backend, or the reason there is none
 * ("no CUDA device", "the NVIDIA driver supports CUDA 12.4 but the committed PTX needs 13.0", ...).
 */
public record CudaProbe(Optional<CudaBackend> backend, String reason) {

    static CudaProbe available(CudaBackend backend) {
        return new CudaProbe(Optional.of(backend), "");
    }

    static CudaProbe unavailable(String reason) {
        return new CudaProbe(Optional.empty(), reason);
    }

    public boolean isAvailable() {
        return backend.isPresent();
    }
}
