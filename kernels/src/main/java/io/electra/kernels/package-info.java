/**
 * The CUDA backend: {@link io.electra.kernels.CudaBackend} implements the engine's Backend with
 * our own kernels (committed PTX under {@code /ptx}, launched through JCuda's driver API), and
 * {@link io.electra.kernels.CudaBackend#tryCreate()} finds out, without ever crashing the JVM,
 * whether a usable device is present and if not, why.
 */
package io.electra.kernels;
