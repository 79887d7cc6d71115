package io.electra.engine;

/**
 * Names one stream of the counter-based generator (Philox4x32-10): the run's seed, the training
 * step and a purpose (which mask or noise). Two draws with the same key see the same numbers on
 * every backend, so masks survive a resume or a move between CPU and GPU.
 *
 * <p>Element {@code i} of a stream is lane {@code i % 4} of the Philox block with counter
 * {@code (i / 4 low 32 bits, i / 4 high 32 bits, step, purpose)} and key
 * {@code (seed low 32 bits, seed high 32 bits)}.
 */
public record RngKey(long seed, long step, int purpose) {

    /** Purposes in use; each layer's dropout adds its layer index to keep streams apart. */
    public static final int MASKING = 1;
    public static final int GUMBEL = 2;
    public static final int SHUFFLE = 3;
    public static final int DROPOUT_BASE = 1 << 16;

    public RngKey withPurpose(int p) {
        return new RngKey(seed, step, p);
    }
}
