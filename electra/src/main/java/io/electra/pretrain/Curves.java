package io.electra.pretrain;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** Redraws the training curves (losses, detection accuracy) as PNG files after each metrics record. */
public final class Curves {
    private Curves() {
    }

    public static void draw(List<StepMetrics> records, Path dir) throws IOException {
        if (records.size() < 2) return;
        XYChart losses = chart("ELECTRA pre-training losses", "loss");
        series(losses, records, "generator (MLM)", StepMetrics::generatorLoss);
        series(losses, records, "discriminator (BCE)", StepMetrics::discriminatorLoss);
        List<StepMetrics> validated = records.stream().filter(r -> r.validationLoss() != null).toList();
        if (validated.size() >= 1) series(losses, validated, "validation total / 50", r -> r.validationLoss() / 50);
        save(losses, dir.resolve("losses.png"));
        XYChart detection = chart("Replaced-token detection", "fraction");
        series(detection, records, "accuracy", StepMetrics::discriminatorAccuracy);
        series(detection, records, "precision (replaced)", StepMetrics::replacedPrecision);
        series(detection, records, "recall (replaced)", StepMetrics::replacedRecall);
        save(detection, dir.resolve("detection.png"));
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("step").yAxisTitle(yTitle).build();
        c.getStyler().setMarkerSize(3);
        return c;
    }

    private static void series(XYChart c, List<StepMetrics> rs, String name, ToDoubleFunction<StepMetrics> f) {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (StepMetrics r : rs) {
            x.add((double) r.step());
            y.add(f.applyAsDouble(r));
        }
        c.addSeries(name, x, y);
    }

    private static void save(XYChart c, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp.png");
        BitmapEncoder.saveBitmap(c, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
