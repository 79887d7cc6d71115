package io.electra.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A progress display on standard error, redrawn in place on a terminal and printed as plain lines
 * (every 10 seconds) when the output goes to a file or pipe. Runs on its own daemon thread.
 */
final class ProgressLine implements AutoCloseable {
    private final PrintWriter err;
    private final Supplier<String> text;
    private final boolean terminal;
    private final Thread thread;
    private volatile boolean running = true;

    ProgressLine(PrintWriter err, Supplier<String> text) {
        this.err = err;
        this.text = text;
        this.terminal = System.console() != null;
        this.thread = new Thread(this::loop, "electra-progress");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        long period = terminal ? 250 : 10_000;
        while (running) {
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
            if (running) draw();
        }
    }

    private void draw() {
        if (terminal) err.print("\r" + text.get() + "\u001b[K");
        else err.println(text.get());
        err.flush();
    }

    /** A 30-character bar for {@code fraction} in [0, 1]. */
    static String bar(double fraction) {
        int full = (int) Math.round(Math.max(0, Math.min(1, fraction)) * 30);
        return "[" + "#".repeat(full) + " ".repeat(30 - full) + "]";
    }

    static String si(double v) {
        if (v >= 1e9) return String.format(Locale.ROOT, "%.2fG", v / 1e9);
        if (v >= 1e6) return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        if (v >= 1e3) return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        return String.format(Locale.ROOT, "%.0f", v);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        draw();
        if (terminal) err.println();
    }
}
