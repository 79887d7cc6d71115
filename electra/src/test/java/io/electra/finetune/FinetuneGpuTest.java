package io.electra.finetune;

import io.electra.engine.Precision;
import io.electra.engine.testing.SharedData;
import io.electra.glue.GlueTask;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import io.electra.model.ElectraConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tuning on CUDA against the same run on the CPU, both in fp32: a small random discriminator,
 * 160 SST-2 rows for one epoch (ten updates at a high rate, dropout on, warm-up then decay), then
 * the whole dev set. Dropout masks are the same Philox stream on both backends and every kernel is
 * deterministic, so the two runs differ only in f32 summation order: train losses agree to 1e-4
 * relative and every dev logit to 1e-3 of the logits' scale (ten updates let rounding differences
 * grow a little, never into a different model).
 */
@Tag("gpu")
class FinetuneGpuTest {
    @TempDir
    Path tmp;

    @Test
    void cudaFinetuningMatchesTheCpuRun() throws Exception {
        CudaProbe probe = CudaBackend.tryCreate();
        Assumptions.assumeTrue(probe.isAvailable(), () -> "no CUDA device (" + probe.reason() + ")");
        probe.backend().orElseThrow().close();
        Path glue = SharedData.path("data/glue/SST-2");
        Path vocab = SharedData.path("data/vocab/bert-base-uncased-vocab.txt");
        ElectraConfig c = TinyDiscriminator.config(30522);
        Path model = TinyDiscriminator.save(c, tmp.resolve("random-discriminator"), 11);
        RunResult cpu = run("cpu", model, glue, vocab), cuda = run("cuda", model, glue, vocab);

        double want = cpu.epochs().get(0).trainLoss(), got = cuda.epochs().get(0).trainLoss();
        assertEquals(want, got, 1e-4 * Math.abs(want), "train loss: cpu " + want + ", cuda " + got);
        float[][] a = cpu.bestLogits().get(0), b = cuda.bestLogits().get(0);
        assertEquals(a.length, b.length, "dev rows");
        double scale = 0, worst = 0;
        for (float[] row : a) for (float v : row) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) worst = Math.max(worst, Math.abs(a[i][j] - b[i][j]));
        }
        System.out.printf("fine-tuning cpu vs cuda: train loss %.6f vs %.6f, worst dev logit difference %.2e of scale %.3f%n",
                want, got, worst, scale);
        assertTrue(worst <= 1e-3 * scale, "worst dev logit difference " + worst + " of scale " + scale);
    }

    private RunResult run(String device, Path model, Path glue, Path vocab) throws Exception {
        FinetuneOptions o = FinetuneOptions.builder(GlueTask.SST2, model, glue, tmp.resolve("out-" + device)).vocab(vocab)
                .epochs(1).learningRate(5e-3).layerwiseDecay(1.0).batch(16).maxLength(32).seeds(List.of(3L)).device(device)
                .maxTrainExamples(160).progressBar(false).precision(Precision.FP32).build();
        return Finetuning.run(o, new PrintStream(OutputStream.nullOutputStream())).get(0);
    }
}
