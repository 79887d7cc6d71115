package io.electra.pretrain;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer used as a library, exactly as the README shows it, with cancellation from another thread. */
class EmbeddedApiTest {

    @Test
    void readmeExampleRunsAndCancellationLeavesAResumableCheckpoint(@TempDir Path tmp) throws Exception {
        Path shards = TestShards.prepare(tmp, 400, 64);
        Path out = tmp.resolve("run");
        List<StepMetrics> seen = new CopyOnWriteArrayList<>();

        // --- as in README.md ---
        PretrainOptions options = ElectraTrainer.options()
                .preset("tiny")
                .data(shards)                    // a folder written by `electra prepare`
                .output(out)
                .device("cpu")
                .steps(40)
                .batch(4).maxSeqLength(0).logEvery(1).validateEvery(0)
                .options();
        ElectraTrainer trainer = new ElectraTrainer(options, m -> seen.add(m));
        Thread worker = new Thread(() -> {
            try {
                trainer.run();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        worker.start();
        while (seen.size() < 2) Thread.sleep(20);
        trainer.cancel();                        // from another thread: stops at a step boundary
        worker.join();
        // ---

        long stoppedAt = seen.get(seen.size() - 1).step();
        assertTrue(stoppedAt < 40, "cancelled before the end, at step " + stoppedAt);
        CheckpointStore store = new CheckpointStore(out.resolve("checkpoints"), 3);
        assertEquals(stoppedAt, TrainerState.read(store.newest().orElseThrow()).step(), "a checkpoint at the step it stopped");
        TrainingResult resumed = new ElectraTrainer(ElectraTrainer.options().preset("tiny").data(shards).output(out)
                .device("cpu").steps(stoppedAt + 2).batch(4).logEvery(1).validateEvery(0).resume(true).options(), null)
                .log(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).run();
        assertEquals(stoppedAt + 2, resumed.step());
    }
}
