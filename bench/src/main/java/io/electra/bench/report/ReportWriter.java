package io.electra.bench.report;

import io.electra.bench.Flags;
import io.electra.bench.step.Objective;
import io.electra.bench.step.StepFlops;
import io.electra.model.Preset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Turns a folder of raw result files (ours and PyTorch's, several rounds) into the published report:
 * {@code <out>.json} (environment, FLOP counts, aggregates, ratios and every raw result),
 * {@code <out>.md}, and PNG charts beside them.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.electra.bench.report.ReportWriter --raw DIR --out bench/results/DATE-MACHINE
 *      [--sweep-preset tiny] [--peak-tflops 989] [--commands DIR/commands.txt]
 * </pre>
 * {@code --peak-tflops} is the GPU's dense bf16 peak used for MFU (989 for an H200 SXM); CPU runs report
 * achieved GFLOP/s only.
 */
public final class ReportWriter {
    private static final Set<String> FLAGS = Set.of("raw", "out", "sweep-preset", "peak-tflops", "commands");

    private ReportWriter() {
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Flags f = new Flags(args, FLAGS);
        if (!f.has("raw") || !f.has("out")) {
            System.err.println("ReportWriter: need --raw DIR and --out BASE");
            System.exit(2);
        }
        Path raw = Path.of(f.get("raw", ""));
        Path commands = Path.of(f.get("commands", raw.resolve("commands.txt").toString()));
        write(raw, Path.of(f.get("out", "")), f.get("sweep-preset", "tiny"), f.getDouble("peak-tflops", 989),
                Files.isRegularFile(commands) ? Files.readAllLines(commands) : List.of());
    }

    /** Reads every {@code *.json} under {@code raw} and writes the report files at {@code out} + extension. */
    public static Path write(Path raw, Path out, String sweepPreset, double peakTflops, List<String> commands)
            throws IOException {
        List<StepResult> results = new ArrayList<>();
        Map<String, Object> environment = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(raw)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        if (files.isEmpty()) throw new IOException(raw + ": no result files (*.json)");
        for (Path p : files) {
            RunFile r = BenchJson.read(p);
            results.addAll(r.results());
            if (!r.results().isEmpty()) environment.putIfAbsent(r.results().get(0).tool(), r.environment());
        }
        environment.put("report", io.electra.bench.report.MachineInfo.collect());

        List<Aggregate> aggregates = Aggregate.of(results);
        List<Ratios.Ratio> ratios = Ratios.of(aggregates);
        List<Aggregate> main = mainShapes(aggregates);
        String name = out.getFileName().toString();
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);

        Charts.throughput(dir.resolve(name + "-throughput-electra.png"), main, "electra");
        Charts.throughput(dir.resolve(name + "-throughput-mlm.png"), main, "mlm");
        List<Ratios.Ratio> headline = ratios.stream()
                .filter(r -> main.stream().anyMatch(a -> a.first().preset().equals(r.preset()) && a.first().batch() == r.batch()))
                .toList();
        Charts.ratios(dir.resolve(name + "-ratios-wall.png"), headline, false);
        Charts.ratios(dir.resolve(name + "-ratios-cpu.png"), headline, true);
        Charts.batchSweep(dir.resolve(name + "-batch-sweep.png"), aggregates, sweepPreset, "electra");

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("environment", environment);
        json.put("flopsPerStep", flopTable(aggregates));
        json.put("aggregates", aggregates.stream().map(ReportWriter::aggregateJson).toList());
        json.put("ratios", ratios);
        json.put("commands", commands);
        json.put("results", results);
        BenchJson.write(dir.resolve(name + ".json"), json);
        Path md = dir.resolve(name + ".md");
        Files.writeString(md, MarkdownReport.render(name, environment, aggregates, main, ratios, peakTflops, commands,
                chartNames(dir, name)));
        System.out.println("wrote " + md + " and " + dir.resolve(name + ".json"));
        return md;
    }

    /** The configurations measured for both objectives (the sweep's extra batch sizes are left out). */
    static List<Aggregate> mainShapes(List<Aggregate> all) {
        Set<String> both = new LinkedHashSet<>();
        for (Aggregate a : all) {
            StepResult r = a.first();
            if (r.objective().equals("mlm")) both.add(r.preset() + "|" + r.batch() + "|" + r.seq());
        }
        return all.stream().filter(a -> !a.first().variant().endsWith("profiled"))
                .filter(a -> both.contains(a.first().preset() + "|" + a.first().batch() + "|" + a.first().seq()))
                .toList();
    }

    /** FLOPs per step of every measured shape, by term. */
    static Map<String, Object> flopTable(List<Aggregate> all) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Aggregate a : all) {
            StepResult r = a.first();
            String key = r.preset() + " b" + r.batch() + " t" + r.seq() + " " + r.objective() + " head=" + r.generatorHead();
            if (out.containsKey(key)) continue;
            StepFlops f = flops(r);
            Map<String, Object> e = new LinkedHashMap<>(f.forward());
            e.put("forward total", f.forwardTotal());
            e.put("step total (3x forward)", f.stepTotal());
            out.put(key, e);
        }
        return out;
    }

    static StepFlops flops(StepResult r) {
        return StepFlops.of(Preset.named(r.preset()), Objective.parse(r.objective()), r.batch(), r.seq(),
                "all".equals(r.generatorHead()));
    }

    private static Map<String, Object> aggregateJson(Aggregate a) {
        StepResult r = a.first();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tool", r.tool());
        m.put("variant", r.variant());
        m.put("device", r.device());
        m.put("preset", r.preset());
        m.put("objective", r.objective());
        m.put("batch", r.batch());
        m.put("seq", r.seq());
        m.put("threads", r.threads());
        m.put("rounds", a.rounds());
        m.put("medianMs", a.medianMs());
        m.put("minMs", a.minMs());
        m.put("maxMs", a.maxMs());
        m.put("medianCpuMs", a.medianCpuMs());
        m.put("sequencesPerSecond", a.sequencesPerSecond());
        m.put("tokensPerSecond", a.tokensPerSecond());
        m.put("flopsPerStep", flops(r).stepTotal());
        m.put("achievedGflops", flops(r).stepTotal() / a.medianMs() / 1e6);
        m.put("parameterCount", r.parameterCount());
        m.put("peakRssBytes", a.peakRssBytes());
        return m;
    }

    private static List<String> chartNames(Path dir, String name) {
        List<String> out = new ArrayList<>();
        for (String s : List.of("ratios-wall", "ratios-cpu", "throughput-electra", "throughput-mlm", "batch-sweep")) {
            if (Files.isRegularFile(dir.resolve(name + "-" + s + ".png"))) out.add(name + "-" + s + ".png");
        }
        return out;
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "n/a";
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
    }
}
