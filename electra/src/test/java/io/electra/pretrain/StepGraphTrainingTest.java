package io.electra.pretrain;

import io.electra.engine.Backend;
import io.electra.engine.Precision;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.testing.RecordingBackend;
import io.electra.pretrain.PretrainOptions.GraphMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer's step graph on the CPU, through {@link RecordingBackend}'s emulated capture: after one
 * eager warm-up step, replaying the captured step (dropout and Gumbel sampling included, their streams
 * moved by the RNG step offset) trains bit for bit as eager steps do; a backend that cannot capture
 * falls back to eager steps with one message, and {@code --cuda-graph on} makes that an error.
 */
class StepGraphTrainingTest {
    static TextRows rows;

    @BeforeAll
    static void data() throws Exception {
        rows = new TextRows(96, 32);
    }

    private static PretrainOptions.Builder options(Path out, int accumulate, GraphMode mode) {
        return PretrainTest.tiny(out, 5).batch(4).accumulate(accumulate).cudaGraph(mode)
                .override("hidden_dropout_prob", "0.2").override("attention_probs_dropout_prob", "0.2");
    }

    /** The metrics of every step and the final checkpoint's folder. */
    private record Run(List<StepMetrics> metrics, Path checkpoint) {
    }

    private static Run train(Path out, int accumulate, GraphMode mode, Backend backend, PrintStream log) throws Exception {
        List<StepMetrics> seen = new ArrayList<>();
        TrainingResult r = new ElectraTrainer(options(out, accumulate, mode).options(), rows, seen::add)
                .backend(() -> backend).log(log).run();
        assertEquals(5, r.step());
        return new Run(seen, r.checkpoint());
    }

    @Test
    void replayedStepsTrainBitForBitLikeEagerSteps(@TempDir Path eagerOut, @TempDir Path graphOut) throws Exception {
        Run eager = train(eagerOut, 1, GraphMode.OFF, new CpuBackend(2), PretrainTest.quiet());
        Backend recording = RecordingBackend.over(new CpuBackend(2));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Run graphed = train(graphOut, 1, GraphMode.ON, recording, new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(4, RecordingBackend.replays(recording), "one eager warm-up step, then four replays of the captured step");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("step graph: captured at step 2"), log.toString(StandardCharsets.UTF_8));
        assertSameTraining(eager, graphed);
    }

    @Test
    void accumulationReplaysTheMicroBatchGraphPerMicroBatchAndTheOptimizerOnce(@TempDir Path eagerOut, @TempDir Path graphOut)
            throws Exception {
        Run eager = train(eagerOut, 2, GraphMode.OFF, new CpuBackend(2), PretrainTest.quiet());
        Backend recording = RecordingBackend.over(new CpuBackend(2));
        Run graphed = train(graphOut, 2, GraphMode.ON, recording, PretrainTest.quiet());
        assertEquals(4 * 2 + 4, RecordingBackend.replays(recording), "two micro-batch replays and one optimizer replay per step");
        assertSameTraining(eager, graphed);
    }

    /** bf16 mixed precision: AdamW's refresh of the bf16 weight copies must be part of the captured step. */
    @Test
    void replayedBf16StepsTrainBitForBitLikeEagerBf16Steps(@TempDir Path eagerOut, @TempDir Path graphOut) throws Exception {
        Run eager = train(options(eagerOut, 1, GraphMode.OFF).precision(Precision.BF16), new CpuBackend(2));
        Backend recording = RecordingBackend.over(new CpuBackend(2));
        Run graphed = train(options(graphOut, 1, GraphMode.ON).precision(Precision.BF16), recording);
        assertEquals(4, RecordingBackend.replays(recording));
        assertSameTraining(eager, graphed);
    }

    private static Run train(PretrainOptions.Builder options, Backend backend) throws Exception {
        List<StepMetrics> seen = new ArrayList<>();
        TrainingResult r = new ElectraTrainer(options.options(), rows, seen::add).backend(() -> backend).log(PretrainTest.quiet()).run();
        assertEquals(5, r.step());
        return new Run(seen, r.checkpoint());
    }

    private static void assertSameTraining(Run eager, Run graphed) throws Exception {
        assertEquals(eager.metrics().size(), graphed.metrics().size());
        for (int i = 0; i < eager.metrics().size(); i++) {
            StepMetrics e = eager.metrics().get(i), g = graphed.metrics().get(i);
            String at = "step " + e.step() + ": ";
            assertEquals(e.step(), g.step());
            assertEquals(e.generatorLoss(), g.generatorLoss(), 0.0, at + "generator loss");
            assertEquals(e.discriminatorLoss(), g.discriminatorLoss(), 0.0, at + "discriminator loss");
            assertEquals(e.gradNorm(), g.gradNorm(), 0.0, at + "gradient norm");
            assertEquals(e.discriminatorAccuracy(), g.discriminatorAccuracy(), 0.0, at + "detection accuracy");
            assertEquals(e.replacedFraction(), g.replacedFraction(), 0.0, at + "replaced fraction (the Gumbel samples)");
        }
        for (String model : new String[]{"generator", "discriminator"}) {
            try (SafeTensorsFile x = SafeTensorsFile.open(eager.checkpoint().resolve(model).resolve("model.safetensors"));
                 SafeTensorsFile y = SafeTensorsFile.open(graphed.checkpoint().resolve(model).resolve("model.safetensors"))) {
                assertEquals(x.names(), y.names());
                for (String n : x.names()) assertTrue(Arrays.equals(x.readRaw(n), y.readRaw(n)), model + " " + n + " differs");
            }
        }
    }

    @Test
    void aBackendThatCannotCaptureTrainsEagerlyAndSaysWhyOnce(@TempDir Path out) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        train(out, 1, GraphMode.AUTO, new CpuBackend(2), new PrintStream(log, true, StandardCharsets.UTF_8));
        String text = log.toString(StandardCharsets.UTF_8);
        String line = "step graph: off, steps run eagerly (the cpu backend runs steps eagerly)";
        assertTrue(text.contains(line), text);
        assertEquals(text.indexOf(line), text.lastIndexOf(line), "the reason is printed once: " + text);
    }

    @Test
    void graphOnRefusesABackendThatCannotCapture(@TempDir Path out) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> train(out, 1, GraphMode.ON, new CpuBackend(2), PretrainTest.quiet()));
        assertTrue(e.getMessage().startsWith("--cuda-graph on: the cpu backend runs steps eagerly"), e.getMessage());
    }
}
