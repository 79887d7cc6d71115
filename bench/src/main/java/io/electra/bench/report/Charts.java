package io.electra.bench.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The report's PNG charts (headless XChart). Every series spans every category; a missing value is 0. */
final class Charts {
    private Charts() {
    }

    /** Bars of tokens/s per preset, one series per tool/variant, for one objective at the presets' main shapes. */
    static void throughput(Path png, List<Aggregate> main, String objective) throws IOException {
        List<String> presets = presets(main);
        CategoryChart c = categoryChart("Training-step throughput, " + objective + " (higher is better)", "preset",
                "tokens / s");
        Map<String, double[]> series = new TreeMap<>();
        for (Aggregate a : main) {
            if (!a.first().objective().equals(objective)) continue;
            series.computeIfAbsent(a.label(), k -> new double[presets.size()])[presets.indexOf(a.first().preset())] =
                    a.tokensPerSecond();
        }
        series.forEach((name, v) -> c.addSeries(name, presets, toList(v)));
        if (!series.isEmpty()) save(c, png);
    }

    /** Bars of every headline ratio per preset, from wall times or from CPU times. */
    static void ratios(Path png, List<Ratios.Ratio> ratios, boolean cpu) throws IOException {
        List<String> presets = new ArrayList<>(new LinkedHashSet<>(ratios.stream().map(Ratios.Ratio::preset).toList()));
        CategoryChart c = categoryChart("Ratios of " + (cpu ? "CPU" : "wall") + " time per step "
                + "(speed-up: PyTorch / ours; ELECTRA/BERT)", "preset", "ratio");
        Map<String, double[]> series = new TreeMap<>();
        for (Ratios.Ratio r : ratios) {
            String name = r.kind().equals("speedup") ? "ours vs " + r.against() + " (" + r.objective() + ")"
                    : "ELECTRA/BERT " + r.tool();
            series.computeIfAbsent(name, k -> new double[presets.size()])[presets.indexOf(r.preset())] = cpu ? r.cpu() : r.wall();
        }
        series.forEach((name, v) -> c.addSeries(name, presets, toList(v)));
        if (!series.isEmpty()) save(c, png);
    }

    /** Sequences/s against batch size for one preset and objective, one line per tool/variant. */
    static void batchSweep(Path png, List<Aggregate> all, String preset, String objective) throws IOException {
        XYChart c = new XYChartBuilder().width(900).height(520)
                .title("Throughput vs batch size, " + preset + " " + objective).xAxisTitle("batch size")
                .yAxisTitle("sequences / s").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        Map<String, TreeMap<Integer, Double>> lines = new TreeMap<>();
        for (Aggregate a : all) {
            StepResult r = a.first();
            if (r.preset().equals(preset) && r.objective().equals(objective)) {
                lines.computeIfAbsent(a.label(), k -> new TreeMap<>()).put(r.batch(), a.sequencesPerSecond());
            }
        }
        lines.forEach((name, points) -> {
            if (points.size() >= 2) c.addSeries(name, new ArrayList<>(points.keySet()), new ArrayList<>(points.values()));
        });
        if (!c.getSeriesMap().isEmpty()) save(c, png);
    }

    private static CategoryChart categoryChart(String title, String x, String y) {
        CategoryChart c = new CategoryChartBuilder().width(900).height(520).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setAvailableSpaceFill(0.8);
        return c;
    }

    private static List<String> presets(List<Aggregate> all) {
        return new ArrayList<>(new LinkedHashSet<>(all.stream().map(a -> a.first().preset()).toList()));
    }

    private static List<Double> toList(double[] v) {
        List<Double> out = new ArrayList<>();
        for (double d : v) out.add(d);
        return out;
    }

    private static void save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path png) throws IOException {
        String base = png.toString().replaceFirst("\\.png$", "");
        BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
    }
}
