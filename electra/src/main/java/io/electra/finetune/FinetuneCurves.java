package io.electra.finetune;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Draws {@code curves.png}: the dev score (left axis) and the mean training loss (right axis) per epoch. */
final class FinetuneCurves {
    static final String FILE = "curves.png";

    private FinetuneCurves() {
    }

    static void draw(List<EpochRecord> epochs, String title, String metric, Path dir) throws IOException {
        XYChart c = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("epoch").build();
        c.setYAxisGroupTitle(0, "dev " + metric);
        c.setYAxisGroupTitle(1, "training loss");
        c.getStyler().setMarkerSize(6);
        c.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        double[] x = new double[epochs.size()], score = new double[epochs.size()], loss = new double[epochs.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = epochs.get(i).epoch();
            score[i] = epochs.get(i).score();
            loss[i] = epochs.get(i).trainLoss();
        }
        c.addSeries("dev " + metric, x, score);
        XYSeries l = c.addSeries("training loss", x, loss);
        l.setYAxisGroup(1);
        AtomicFiles.writeBytes(dir.resolve(FILE), BitmapEncoder.getBitmapBytes(c, BitmapEncoder.BitmapFormat.PNG));
    }
}
