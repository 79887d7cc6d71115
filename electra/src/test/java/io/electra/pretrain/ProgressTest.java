package io.electra.pretrain;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The plain progress lines: ELECTRA shows both losses and the detection accuracy, masked LM its one loss. */
class ProgressTest {
    private static final StepMetrics M = new StepMetrics(20, 10.25, 0.5, 20.75, 0.875, 0.5, 0.25, 0.125, 2e-4, 1.5, 8, 1024,
            0, 9.5, "fp32");

    @Test
    void electraLinesShowBothNetworks() {
        assertEquals("step 20/100  gen 10.2500  disc 0.5000  acc 0.875  lr 2.00e-04  |g| 1.50  1024 tok/s  val 9.5000",
                line(true));
    }

    @Test
    void maskedLmLinesShowOnlyItsLoss() {
        assertEquals("step 20/100  mlm 10.2500  lr 2.00e-04  |g| 1.50  1024 tok/s  val 9.5000", line(false));
    }

    private static String line(boolean discriminator) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Progress p = new Progress(new PrintStream(out, true, StandardCharsets.UTF_8), 0, 100, false, discriminator)) {
            p.metrics(M);
        }
        return out.toString(StandardCharsets.UTF_8).trim();
    }
}
