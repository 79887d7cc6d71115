package io.electra.pretrain;

import io.electra.engine.io.SafeTensorsFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pre-training end to end on the CPU: learning, checkpoints, bit-exact resume, failure handling. */
class PretrainTest {
    static TextRows rows;

    @BeforeAll
    static void data() throws Exception {
        rows = new TextRows(192, 64);
    }

    static PretrainOptions.Builder tiny(Path out, long steps) {
        return ElectraTrainer.options().preset("tiny").data(Path.of("test-rows")).output(out).device("cpu")
                .steps(steps).batch(8).learningRate(2e-3).warmupSteps(5).seed(11).logEvery(1).validateEvery(0)
                .checkpointEvery(0).progressBar(false);
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    @Test
    void tinyRunLearnsBothObjectives(@TempDir Path out) throws Exception {
        List<StepMetrics> seen = new ArrayList<>();
        TrainingResult r = new ElectraTrainer(tiny(out, 60).validateEvery(30).validationBatches(2).options(), rows, seen::add)
                .log(quiet()).run();
        assertEquals(60, r.step());
        assertEquals(60, seen.size(), "a metrics record per step at logEvery 1");
        double gen0 = avg(seen.subList(0, 10), true), gen1 = avg(seen.subList(50, 60), true);
        double disc0 = avg(seen.subList(0, 10), false), disc1 = avg(seen.subList(50, 60), false);
        assertTrue(gen1 < gen0 - 1.0, "generator MLM loss falls: " + gen0 + " -> " + gen1);
        assertTrue(disc1 < disc0 - 0.05, "discriminator loss falls: " + disc0 + " -> " + disc1);
        assertTrue(seen.get(59).validationLoss() != null, "validation loss at the last step");
        assertTrue(Files.isRegularFile(out.resolve("metrics.jsonl")));
        assertEquals(60, Files.readAllLines(out.resolve("metrics.jsonl")).size());
        assertTrue(Files.size(out.resolve("losses.png")) > 1000, "loss curves drawn");
        assertTrue(Files.isDirectory(r.checkpoint().resolve("generator")) && Files.isDirectory(r.checkpoint().resolve("discriminator")));
    }

    private static double avg(List<StepMetrics> ms, boolean generator) {
        return ms.stream().mapToDouble(m -> generator ? m.generatorLoss() : m.discriminatorLoss()).average().orElseThrow();
    }

    @Test
    void resumedRunIsBitIdenticalToAnUninterruptedOne(@TempDir Path a, @TempDir Path b) throws Exception {
        List<StepMetrics> straight = new ArrayList<>();
        new ElectraTrainer(tiny(a, 8).accumulate(2).options(), rows, straight::add).log(quiet()).run();

        List<StepMetrics> first = new ArrayList<>();
        ElectraTrainer[] holder = new ElectraTrainer[1];
        holder[0] = new ElectraTrainer(tiny(b, 8).accumulate(2).options(), rows, m -> {
            first.add(m);
            if (m.step() == 3) holder[0].cancel();
        }).log(quiet());
        TrainingResult stopped = holder[0].run();
        assertTrue(stopped.cancelled());
        assertEquals(3, stopped.step());
        List<StepMetrics> second = new ArrayList<>();
        TrainingResult resumed = new ElectraTrainer(tiny(b, 8).accumulate(2).resume(true).options(), rows, second::add)
                .log(quiet()).run();
        assertEquals(8, resumed.step());
        assertEquals(5, second.size());
        for (StepMetrics m : second) {
            StepMetrics ref = straight.get((int) m.step() - 1);
            assertEquals(ref.step(), m.step());
            assertEquals(Double.doubleToLongBits(ref.generatorLoss()), Double.doubleToLongBits(m.generatorLoss()),
                    "generator loss at step " + m.step() + ": " + ref.generatorLoss() + " vs " + m.generatorLoss());
            assertEquals(Double.doubleToLongBits(ref.discriminatorLoss()), Double.doubleToLongBits(m.discriminatorLoss()),
                    "discriminator loss at step " + m.step());
            assertEquals(Double.doubleToLongBits(ref.gradNorm()), Double.doubleToLongBits(m.gradNorm()),
                    "gradient norm at step " + m.step());
        }
        // the final weights agree bit for bit too
        try (SafeTensorsFile x = SafeTensorsFile.open(a.resolve("checkpoints/checkpoint-000000008/discriminator/model.safetensors"));
             SafeTensorsFile y = SafeTensorsFile.open(b.resolve("checkpoints/checkpoint-000000008/discriminator/model.safetensors"))) {
            assertEquals(x.names(), y.names());
            for (String n : x.names()) assertTrue(java.util.Arrays.equals(x.readRaw(n), y.readRaw(n)), n + " differs");
        }
    }

    @Test
    void mlmObjectiveTrainsTheBaseline(@TempDir Path out) throws Exception {
        List<StepMetrics> seen = new ArrayList<>();
        new ElectraTrainer(tiny(out, 30).objective(PretrainOptions.Objective.MLM).options(), rows, seen::add).log(quiet()).run();
        assertTrue(avg(seen.subList(25, 30), true) < avg(seen.subList(0, 5), true) - 0.5, "MLM loss falls");
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/checkpoint-000000030/mlm/model.safetensors")));
    }

    /** A PNG that cannot be written (here a folder squats on its name) costs the curves, not the run. */
    @Test
    void curvesThatCannotBeDrawnDoNotStopTraining(@TempDir Path out) throws Exception {
        Files.createDirectories(out.resolve("losses.png").resolve("occupied"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<StepMetrics> seen = new ArrayList<>();
        TrainingResult r = new ElectraTrainer(tiny(out, 4).options(), rows, seen::add)
                .log(new PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8)).run();
        assertEquals(4, r.step());
        assertEquals(4, seen.size(), "every step still reports its metrics");
        String printed = log.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, printed.split("training curves not drawn", -1).length - 1, printed);
        assertEquals(4, Files.readAllLines(out.resolve("metrics.jsonl")).size());
    }

    @Test
    void nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint(@TempDir Path out) throws Exception {
        // an absurd learning rate overflows the weights after the first update that moves them
        PretrainOptions o = tiny(out, 20).learningRate(1e30).warmupSteps(0).checkpointEvery(1).options();
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                () -> new ElectraTrainer(o, rows, null).log(quiet()).run());
        assertTrue(e.getMessage().matches("step \\d+: (generator|discriminator|total) loss is .*"), e.getMessage());
        CheckpointStore store = new CheckpointStore(out.resolve("checkpoints"), 3);
        assertFalse(store.complete().isEmpty(), "a good checkpoint from before the failure remains");
        long failedStep = Long.parseLong(e.getMessage().replaceAll("step (\\d+):.*", "$1"));
        for (Path p : store.complete()) {
            assertTrue(TrainerState.read(p).step() < failedStep, p + " was written before the failure");
        }
    }

    @Test
    void resumeRefusesACheckpointOfAnotherShape(@TempDir Path out) throws Exception {
        new ElectraTrainer(tiny(out, 2).options(), rows, null).log(quiet()).run();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ElectraTrainer(tiny(out, 4).batch(4).resume(true).options(), rows, null).log(quiet()).run());
        assertTrue(e.getMessage().contains("batch"), e.getMessage());
    }
}
