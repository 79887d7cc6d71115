/**
 * The CUDA runtime under the backend, on JCuda's driver API only: device discovery that never
 * crashes the JVM, the context and its one compute stream, PTX modules loaded from the committed
 * resources, the caching device allocator (persistent pool and per-step arena), pinned staging
 * buffers, timing events, and the allocation-free kernel launcher, which holds every launch
 * against the parameter list its kernel declares in the PTX (PtxSignatures).
 */
package io.electra.kernels.runtime;
