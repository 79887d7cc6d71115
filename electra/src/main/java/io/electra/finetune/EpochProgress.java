package io.electra.finetune;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/**
 * Progress of one epoch in examples, with examples/s and the running mean loss: a bar on a
 * terminal, otherwise a plain line at every tenth of the epoch.
 */
final class EpochProgress implements AutoCloseable {
    private static final int PLAIN_LINES = 10;

    private final ProgressBar bar;
    private final PrintStream log;
    private final String name;
    private final int total;
    private final long start = System.nanoTime();
    private final int interval;
    private int nextLine;

    EpochProgress(PrintStream log, int epoch, int epochs, int total, boolean barWanted) {
        this.log = log;
        this.total = total;
        this.name = "epoch " + epoch + "/" + epochs;
        this.bar = barWanted && System.console() != null
                ? new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUnit(" ex", 1).showSpeed().build()
                : null;
        this.interval = Math.max(1, total / PLAIN_LINES);
        this.nextLine = interval;
    }

    void update(int done, double runningLoss) {
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(String.format(" loss %.4f", runningLoss));
        } else if (done >= nextLine || done == total) {
            log.printf("%s  %d/%d examples  loss %.4f  %.0f ex/s%n", name, done, total, runningLoss, perSecond(done));
            while (nextLine <= done) nextLine += interval;
        }
    }

    double perSecond(int done) {
        double s = (System.nanoTime() - start) / 1e9;
        return s > 0 ? done / s : 0;
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
