/**
 * Pre-training: {@link io.electra.pretrain.ElectraTrainer} (the library entry point behind
 * {@code electra pretrain}), its options, the batch loader with a resumable cursor, atomic
 * checkpoints ({@link io.electra.pretrain.CheckpointStore}: HF generator and discriminator folders,
 * optimizer moments, trainer state written last), metrics as JSON lines and PNG curves.
 * On the CPU a resumed run reproduces an uninterrupted one bit for bit: masks, noise and dropout are
 * keyed by (seed, step), the data order by (seed, epoch), and every kernel sums in a fixed order.
 */
package io.electra.pretrain;
