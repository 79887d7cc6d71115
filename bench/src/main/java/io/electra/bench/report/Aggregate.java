package io.electra.bench.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One configuration over all its rounds: the median of the rounds' median step times (rounds of the
 * two tools alternate, so the median discards a round that another process disturbed), and the
 * spread (fastest and slowest round).
 *
 * @param first     one of the results (the configuration's fields: tool, variant, preset, ...)
 * @param medianMs  median over rounds of each round's median step time
 */
public record Aggregate(StepResult first, int rounds, double medianMs, double minMs, double maxMs, double medianCpuMs,
                        long peakRssBytes, double maxLoadAverage) {

    public double sequencesPerSecond() {
        return first.batch() * 1000.0 / medianMs;
    }

    public double tokensPerSecond() {
        return (double) first.batch() * first.seq() * 1000.0 / medianMs;
    }

    /** Ours, or PyTorch's variant name. */
    public String label() {
        if (!first.tool().equals("electra-java")) return first.variant();
        return first.variant().equals("ours") ? "electra-java" : "electra-java " + first.variant();
    }

    /** Groups results by configuration (everything but the round), in a stable order. */
    public static List<Aggregate> of(Collection<StepResult> results) {
        Map<String, List<StepResult>> groups = new LinkedHashMap<>();
        for (StepResult r : results) groups.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
        List<Aggregate> out = new ArrayList<>();
        for (List<StepResult> g : groups.values()) {
            double[] ms = g.stream().mapToDouble(StepResult::medianMs).toArray();
            double[] cpu = g.stream().mapToDouble(StepResult::medianCpuMs).toArray();
            out.add(new Aggregate(g.get(0), g.size(), median(ms), Arrays.stream(ms).min().orElseThrow(),
                    Arrays.stream(ms).max().orElseThrow(), median(cpu),
                    g.stream().mapToLong(StepResult::peakRssBytes).max().orElse(-1),
                    g.stream().mapToDouble(StepResult::loadAverage).max().orElse(-1)));
        }
        out.sort(Comparator.comparingInt((Aggregate a) -> presetOrder(a.first.preset()))
                .thenComparingInt(a -> a.first.batch())
                .thenComparing(a -> a.first.objective())
                .thenComparing(a -> a.first.tool().equals("electra-java") ? "" : a.first.variant()));
        return out;
    }

    static int presetOrder(String preset) {
        int i = List.of("tiny", "small2l", "small", "base", "large").indexOf(preset);
        return i < 0 ? 99 : i;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
