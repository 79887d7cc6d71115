package io.electra.bench.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportWriterTest {

    private static StepResult result(String tool, String variant, String objective, int batch, int round, double ms) {
        return new StepResult(tool, variant, "cpu", "tiny", objective, batch, 128, 2, round,
                variant.endsWith("all") ? "all" : "masked", 1, new double[]{ms}, ms,
                tool.equals("pytorch") ? 1.5 * ms : ms, 1.0, batch * 1000 / ms,
                batch * 128 * 1000 / ms, 2150875, 1 << 20, null, null, 45, 40, "cmd " + tool, null);
    }

    /** Three rounds: the slow outlier round is discarded by the median. */
    @Test
    void aggregateTakesMedianOverRounds() {
        List<Aggregate> a = Aggregate.of(List.of(result("electra-java", "ours", "electra", 16, 1, 100),
                result("electra-java", "ours", "electra", 16, 2, 900), result("electra-java", "ours", "electra", 16, 3, 110)));
        assertEquals(1, a.size());
        assertEquals(110, a.get(0).medianMs(), 1e-12);
        assertEquals(100, a.get(0).minMs(), 1e-12);
        assertEquals(900, a.get(0).maxMs(), 1e-12);
        assertEquals(3, a.get(0).rounds());
    }

    @Test
    void ratiosAreTheirTimeOverOursAndElectraOverBert() {
        List<Aggregate> a = Aggregate.of(List.of(result("electra-java", "ours", "electra", 16, 1, 100),
                result("electra-java", "ours", "mlm", 16, 1, 80), result("pytorch", "torch-eager-fp32-masked", "electra", 16, 1, 250),
                result("pytorch", "torch-eager-fp32-masked", "mlm", 16, 1, 200)));
        List<Ratios.Ratio> r = Ratios.of(a);
        assertEquals(2.5, find(r, "speedup", "electra-java", "electra").wall(), 1e-12);
        assertEquals(2.5, find(r, "speedup", "electra-java", "mlm").wall(), 1e-12);
        assertEquals(1.25, find(r, "electra/bert", "electra-java", "electra").wall(), 1e-12);
        assertEquals(1.25, find(r, "electra/bert", "torch-eager-fp32-masked", "electra").wall(), 1e-12);
        // CPU times: PyTorch's are 1.5x its wall times in these results, ours equal
        assertEquals(3.75, find(r, "speedup", "electra-java", "electra").cpu(), 1e-12);
        assertEquals(1.25, find(r, "electra/bert", "torch-eager-fp32-masked", "electra").cpu(), 1e-12);
        assertEquals(4, r.size());
    }

    private static Ratios.Ratio find(List<Ratios.Ratio> rs, String kind, String tool, String objective) {
        return rs.stream().filter(x -> x.kind().equals(kind) && x.tool().equals(tool) && x.objective().equals(objective))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + tool + " " + objective + " in " + rs));
    }

    @Test
    void writesJsonMarkdownAndChartsFromRawFiles(@TempDir Path tmp) throws Exception {
        Path raw = Files.createDirectories(tmp.resolve("raw"));
        List<StepResult> ours = new ArrayList<>(), theirs = new ArrayList<>();
        for (int b : new int[]{4, 16}) {
            ours.add(result("electra-java", "ours", "electra", b, 1, 25.0 * b));
            theirs.add(result("pytorch", "torch-eager-fp32-masked", "electra", b, 1, 50.0 * b));
        }
        ours.add(result("electra-java", "ours", "mlm", 16, 1, 320));
        theirs.add(result("pytorch", "torch-eager-fp32-masked", "mlm", 16, 1, 640));
        BenchJson.write(raw.resolve("ours.json"), new RunFile(Map.of("jvm", "test"), ours));
        BenchJson.write(raw.resolve("torch.json"), new RunFile(Map.of("torch", "test"), theirs));

        Path md = ReportWriter.write(raw, tmp.resolve("out/2026-01-01-test"), "tiny", 989, List.of("run it"));
        String text = Files.readString(md);
        assertTrue(text.contains("| tiny | 16 x 128 | speed-up of ours over torch-eager-fp32-masked, electra | 2.00 | 3.00 |"), text);
        assertTrue(text.contains("| tiny | 16 x 128 | ELECTRA/BERT step time, electra-java | 1.25 | 1.25 |"), text);
        assertTrue(text.contains("Parameter counts agree"), text);
        for (String png : List.of("throughput-electra", "throughput-mlm", "ratios-wall", "ratios-cpu", "batch-sweep")) {
            Path p = tmp.resolve("out/2026-01-01-test-" + png + ".png");
            assertTrue(Files.size(p) > 1000, p + " is a chart");
        }
        String json = Files.readString(tmp.resolve("out/2026-01-01-test.json"));
        assertTrue(json.contains("\"flopsPerStep\"") && json.contains("\"ratios\"") && json.contains("run it"), json);
    }
}
