package io.electra.bench.step;

import io.electra.engine.RngKey;
import io.electra.model.Masking;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The host side of every training step: masking one batch (Philox draws, candidate selection). On the
 * GPU a Small step takes milliseconds, so this must stay far below that.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MaskingBench {
    @Param({"8", "128"})
    int batch;

    @Param({"128", "512"})
    int seq;

    @Param({"ELECTRA", "BERT"})
    Masking.Style style;

    private Masking masking;
    private SyntheticBatch rows;
    private long step;

    @Setup
    public void setup() {
        masking = new Masking(Masking.defaultMaxPredictions(0.15, seq), 0.15, SyntheticBatch.CLS, SyntheticBatch.SEP,
                SyntheticBatch.MASK, SyntheticBatch.PAD, 30522, style);
        rows = SyntheticBatch.random(batch, seq, 30522, 7);
    }

    @Benchmark
    public Masking.Batch maskBatch() {
        return masking.apply(rows.ids(), rows.attentionMask(), batch, seq, new RngKey(7, step++, RngKey.MASKING));
    }
}
