package io.electra.pretrain;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/**
 * A progress bar with ETA and tokens/s on a terminal; plain lines (one per metrics record) when the
 * output is not a terminal or the bar is switched off.
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintStream log;
    private final long total;
    private final boolean discriminator;

    /** {@code discriminator}: false for the BERT masked-LM objective, whose lines show its one loss. */
    Progress(PrintStream log, long start, long total, boolean wanted, boolean discriminator) {
        this.log = log;
        this.total = total;
        this.discriminator = discriminator;
        this.bar = wanted && System.console() != null
                ? new ProgressBarBuilder().setTaskName("pretrain").setInitialMax(total).startsFrom(start, java.time.Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" steps", 1).showSpeed().build()
                : null;
    }

    void update(long step) {
        if (bar != null) bar.stepTo(step);
    }

    void metrics(StepMetrics m) {
        String val = m.validationLoss() == null ? "" : String.format("  val %.4f", m.validationLoss());
        String line = discriminator
                ? String.format("step %d/%d  gen %.4f  disc %.4f  acc %.3f  lr %.2e  |g| %.2f  %.0f tok/s%s", m.step(), total,
                        m.generatorLoss(), m.discriminatorLoss(), m.discriminatorAccuracy(), m.learningRate(), m.gradNorm(),
                        m.tokensPerSecond(), val)
                : String.format("step %d/%d  mlm %.4f  lr %.2e  |g| %.2f  %.0f tok/s%s", m.step(), total, m.generatorLoss(),
                        m.learningRate(), m.gradNorm(), m.tokensPerSecond(), val);
        if (bar != null) bar.setExtraMessage(String.format(" %.0f tok/s, loss %.3f", m.tokensPerSecond(), m.totalLoss()));
        else log.println(line);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
