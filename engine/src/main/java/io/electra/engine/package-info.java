/**
 * The core contract: {@link io.electra.engine.Tensor} (contiguous, row-major, owned by one backend),
 * {@link io.electra.engine.Backend} (one method per kernel, forward and backward; forward overwrites,
 * backward accumulates), {@link io.electra.engine.RngKey} (the Philox stream naming).
 */
package io.electra.engine;
