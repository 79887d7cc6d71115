package io.electra.pretrain;

/** A loss became NaN or infinite: the run stops, keeping its last good checkpoint. */
public final class NonFiniteLossException extends RuntimeException {
    public NonFiniteLossException(long step, String which, double value) {
        super("step " + step + ": " + which + " loss is " + value + "; stopping (the last good checkpoint is kept)");
    }
}
