/**
 * ELECTRA's optimizer (AdamW without bias correction, decoupled weight decay, global-norm clipping),
 * its learning-rate schedule, and layer-wise learning-rate decay for fine-tuning. Every step runs
 * through the {@link io.electra.engine.Backend}, so the same code drives the CPU and the GPU.
 */
package io.electra.engine.optim;
