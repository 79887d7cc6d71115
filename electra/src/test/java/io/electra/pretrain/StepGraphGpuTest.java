package io.electra.pretrain;

import io.electra.engine.Backend;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import io.electra.pretrain.PretrainOptions.GraphMode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The training step as a CUDA graph: five steps with dropout and sampling, the last four replays of the
 * captured step with the RNG offset word moving the streams, train as five eager steps on the same
 * device do (within 1e-5; the kernels are deterministic, so in practice bit for bit).
 */
@Tag("gpu")
class StepGraphGpuTest {
    static SyntheticRows rows;

    @BeforeAll
    static void data() throws Exception {
        rows = new SyntheticRows(96, 32, 7);
    }

    private static Backend cuda() {
        CudaProbe p = CudaBackend.tryCreate();
        Assumptions.assumeTrue(p.isAvailable(), () -> "no CUDA device (" + p.reason() + ")");
        return p.backend().orElseThrow();
    }

    private static List<StepMetrics> train(Path out, int accumulate, GraphMode mode, PrintStream log) throws Exception {
        List<StepMetrics> seen = new ArrayList<>();
        new ElectraTrainer(PretrainTest.tiny(out, 5).batch(4).accumulate(accumulate).cudaGraph(mode)
                .override("hidden_dropout_prob", "0.2").override("attention_probs_dropout_prob", "0.2").options(), rows, seen::add)
                .backend(StepGraphGpuTest::cuda).log(log).run();
        return seen;
    }

    @Test
    void cudaGraphReplaysTrainLikeEagerLaunches(@TempDir Path eagerOut, @TempDir Path graphOut) throws Exception {
        for (int accumulate : new int[]{1, 2}) {
            Path e = eagerOut.resolve("acc" + accumulate), g = graphOut.resolve("acc" + accumulate);
            List<StepMetrics> eager = train(e, accumulate, GraphMode.OFF, PretrainTest.quiet());
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            List<StepMetrics> graphed = train(g, accumulate, GraphMode.ON, new PrintStream(log, true, StandardCharsets.UTF_8));
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("step graph: captured at step 2"), log.toString(StandardCharsets.UTF_8));
            for (int i = 0; i < eager.size(); i++) {
                String at = "accumulate " + accumulate + ", step " + eager.get(i).step() + ": ";
                close(at + "generator loss", eager.get(i).generatorLoss(), graphed.get(i).generatorLoss());
                close(at + "discriminator loss", eager.get(i).discriminatorLoss(), graphed.get(i).discriminatorLoss());
                close(at + "gradient norm", eager.get(i).gradNorm(), graphed.get(i).gradNorm());
                assertEquals(eager.get(i).replacedFraction(), graphed.get(i).replacedFraction(), 0.0, at + "replaced fraction");
            }
            Path checkpoint = Path.of("checkpoints", "checkpoint-000000005", "discriminator", "model.safetensors");
            try (SafeTensorsFile x = SafeTensorsFile.open(e.resolve(checkpoint)); SafeTensorsFile y = SafeTensorsFile.open(g.resolve(checkpoint))) {
                for (String n : x.names()) {
                    float[] a = x.readFloat(n), b = y.readFloat(n);
                    for (int j = 0; j < a.length; j++) close("accumulate " + accumulate + ", " + n + "[" + j + "]", a[j], b[j]);
                }
            }
        }
    }

    private static void close(String what, double want, double got) {
        if (!(Math.abs(want - got) <= 1e-5 + 1e-5 * Math.abs(want))) fail(what + ": eager " + want + ", graph " + got);
    }
}
