package io.electra.pretrain;

import io.electra.engine.Precision;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pre-training in bf16 mixed precision on the CPU (the emulation), next to the fp32 run. */
class Bf16PretrainTest {
    static TextRows rows;

    @BeforeAll
    static void data() throws Exception {
        rows = new TextRows(192, 64);
    }

    @Test
    void bf16RunLearnsLikeTheFp32Run(@TempDir Path a, @TempDir Path b) throws Exception {
        List<StepMetrics> fp32 = new ArrayList<>(), bf16 = new ArrayList<>();
        long t0 = System.nanoTime();
        new ElectraTrainer(PretrainTest.tiny(a, 40).precision(Precision.FP32).options(), rows, fp32::add).log(PretrainTest.quiet()).run();
        long t1 = System.nanoTime();
        new ElectraTrainer(PretrainTest.tiny(b, 40).precision(Precision.BF16).options(), rows, bf16::add).log(PretrainTest.quiet()).run();
        long t2 = System.nanoTime();
        System.out.printf("tiny, 40 steps of batch 8 on the CPU: fp32 %.1f ms/step, bf16 emulation %.1f ms/step%n",
                (t1 - t0) / 40e6, (t2 - t1) / 40e6);
        for (int i = 0; i < 40; i += 5) {
            System.out.printf("step %d total loss fp32 %.4f bf16 %.4f%n", i + 1, fp32.get(i).totalLoss(), bf16.get(i).totalLoss());
        }
        double first = avg(bf16.subList(0, 5)), last = avg(bf16.subList(35, 40));
        double firstRef = avg(fp32.subList(0, 5)), lastRef = avg(fp32.subList(35, 40));
        assertTrue(firstRef - lastRef > 5, "the fp32 run learns: " + firstRef + " -> " + lastRef);
        assertTrue(first - last > 0.8 * (firstRef - lastRef), "bf16 loss falls like fp32's: " + first + " -> " + last
                + ", fp32 " + firstRef + " -> " + lastRef);
        // the same data, masks and initial weights: the curves differ only by bf16 rounding
        assertEquals(firstRef, first, 0.02 * firstRef, "first steps, fp32 vs bf16");
        assertEquals(lastRef, last, 0.05 * lastRef, "last steps, fp32 vs bf16");
        assertEquals("bf16", bf16.get(0).precision());
        assertEquals("fp32", fp32.get(0).precision());
        assertTrue(Files.readString(b.resolve("metrics.jsonl")).contains("\"precision\":\"bf16\""));
    }

    @Test
    void aBf16CheckpointHoldsF32MastersAndResumesInFp32(@TempDir Path out) throws Exception {
        new ElectraTrainer(PretrainTest.tiny(out, 3).precision(Precision.BF16).options(), rows, null).log(PretrainTest.quiet()).run();
        Path ckpt = out.resolve("checkpoints/checkpoint-000000003");
        assertEquals("bf16", TrainerState.read(ckpt).precision());
        try (SafeTensorsFile f = SafeTensorsFile.open(ckpt.resolve("discriminator/model.safetensors"))) {
            for (String n : f.names()) assertTrue(!n.endsWith(".bf16"), "no bf16 copy in the checkpoint: " + n);
            assertEquals("F32", f.entry("electra.embeddings.word_embeddings.weight").dtype().name());
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<StepMetrics> seen = new ArrayList<>();
        TrainingResult r = new ElectraTrainer(PretrainTest.tiny(out, 4).precision(Precision.FP32).resume(true).options(), rows,
                seen::add).log(new PrintStream(log)).run();
        assertEquals(4, r.step());
        String text = log.toString();
        assertTrue(text.contains("resumed from") && text.contains("trained in bf16, this run continues in fp32"), text);
        assertEquals(1, seen.size());
        assertEquals("fp32", seen.get(0).precision());
        assertEquals("fp32", TrainerState.read(out.resolve("checkpoints/checkpoint-000000004")).precision());
    }

    private static double avg(List<StepMetrics> ms) {
        return ms.stream().mapToDouble(StepMetrics::totalLoss).average().orElseThrow();
    }
}
