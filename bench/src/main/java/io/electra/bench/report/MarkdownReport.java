package io.electra.bench.report;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.electra.bench.report.ReportWriter.fmt;

/** The Markdown page of a report: headline ratios, the full table, FLOP counts, environment, commands. */
final class MarkdownReport {
    private MarkdownReport() {
    }

    static String render(String name, Map<String, Object> env, List<Aggregate> all, List<Aggregate> main,
                         List<Ratios.Ratio> ratios, double peakTflops, List<String> commands, List<String> charts) {
        StringBuilder md = new StringBuilder();
        boolean gpu = all.stream().anyMatch(a -> a.first().device().equals("cuda"));
        md.append("# Benchmark report ").append(name).append("\n\n");
        md.append("Training-step time of electra-java against PyTorch, measured side by side in one run on one machine. ")
                .append("Each configuration ran in its own process (fresh JVM or interpreter) for several alternating rounds; ")
                .append("a number below is the median over rounds of each round's median step time. ")
                .append("Speed-up = PyTorch step time / ours (above 1: we are faster). ")
                .append("ELECTRA/BERT = a tool's ELECTRA step time / its BERT masked-LM step time at the same shape.\n\n");

        md.append("## Headline ratios\n\n")
                .append("From wall time (what you wait) and from process CPU time (steadier on a shared machine; ")
                .append("spin-waiting threads inflate it, which favours the tool that spins less).\n\n")
                .append("| preset | batch x seq | comparison | ratio (wall) | ratio (CPU time) |\n|---|---|---|---|---|\n");
        for (Ratios.Ratio r : ratios) {
            if (main.stream().noneMatch(a -> a.first().preset().equals(r.preset()) && a.first().batch() == r.batch())) continue;
            String what = r.kind().equals("speedup")
                    ? "speed-up of ours over " + r.against() + ", " + r.objective()
                    : "ELECTRA/BERT step time, " + r.tool();
            md.append("| ").append(r.preset()).append(" | ").append(r.batch()).append(" x ").append(r.seq())
                    .append(" | ").append(what).append(" | ").append(fmt(r.wall())).append(" | ").append(fmt(r.cpu())).append(" |\n");
        }
        md.append('\n');
        for (String c : charts) md.append("![").append(c).append("](").append(c).append(")\n\n");

        md.append("## Every configuration\n\n")
                .append("ms/step: median over rounds (fastest-slowest round in brackets). CPU ms: process CPU time per step, ")
                .append("all threads (less sensitive to other load, but it counts spin-waiting). ")
                .append("GFLOP/s: the analytic step FLOPs below over the median step time")
                .append(gpu ? "; MFU against a dense bf16 peak of " + fmt(peakTflops) + " TFLOP/s" : "")
                .append(". Load: the highest 1-minute load average seen at the end of a round.\n\n");
        md.append("| preset | batch x seq | objective | tool / variant | threads | ms/step | seq/s | tok/s | CPU ms | GFLOP/step | GFLOP/s |")
                .append(gpu ? " MFU |" : "").append(" params | peak RSS MiB | rounds | load |\n|")
                .append("---|".repeat(gpu ? 16 : 15)).append('\n');
        for (Aggregate a : all) {
            StepResult r = a.first();
            double gflop = ReportWriter.flops(r).stepTotal() / 1e9;
            double gflops = gflop * 1000.0 / a.medianMs();
            md.append("| ").append(r.preset()).append(" | ").append(r.batch()).append(" x ").append(r.seq())
                    .append(" | ").append(r.objective()).append(" | ").append(a.label()).append(" | ").append(r.threads())
                    .append(" | ").append(fmt(a.medianMs())).append(" (").append(fmt(a.minMs())).append("-")
                    .append(fmt(a.maxMs())).append(") | ").append(fmt(a.sequencesPerSecond())).append(" | ")
                    .append(fmt(a.tokensPerSecond())).append(" | ").append(fmt(a.medianCpuMs())).append(" | ")
                    .append(fmt(gflop)).append(" | ").append(fmt(gflops)).append(" |");
            if (gpu) md.append(' ').append(fmt(100 * gflops / (peakTflops * 1000))).append("% |");
            md.append(' ').append(r.parameterCount()).append(" | ")
                    .append(a.peakRssBytes() < 0 ? "n/a" : fmt(a.peakRssBytes() / 1048576.0)).append(" | ")
                    .append(a.rounds()).append(" | ").append(fmt(a.maxLoadAverage())).append(" |\n");
        }
        parameterCheck(md, all);

        profiles(md, all);

        md.append("\n## FLOPs per training step\n\n")
                .append("Matrix products only, 2 FLOPs per multiply-add; forward + backward = 3x forward. ")
                .append("Element-wise work (LayerNorm, GELU, softmax, dropout, losses, AdamW) is not counted. ")
                .append("Generator head \"masked\": B x maxPredictions rows (official ELECTRA, ours); ")
                .append("\"all\": every position (HuggingFace's ElectraForMaskedLM).\n\n");
        Map<String, Object> table = ReportWriter.flopTable(all);
        for (var e : table.entrySet()) {
            md.append("**").append(e.getKey()).append("**\n\n| term | forward GFLOP |\n|---|---|\n");
            @SuppressWarnings("unchecked")
            Map<String, Object> terms = (Map<String, Object>) e.getValue();
            terms.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(fmt(((Number) v).longValue() / 1e9))
                    .append(" |\n"));
            md.append('\n');
        }

        md.append("## Environment\n\n");
        env.forEach((tool, v) -> {
            md.append("**").append(tool).append("**\n\n");
            if (v instanceof Map<?, ?> m) m.forEach((k, x) -> md.append("- ").append(k).append(": `").append(x).append("`\n"));
            md.append('\n');
        });
        if (!commands.isEmpty()) {
            md.append("## Commands\n\nExactly as run, in order:\n\n```\n");
            for (String c : commands) md.append(c).append('\n');
            md.append("```\n");
        }
        return md.toString();
    }

    /** Our runs with --profile: milliseconds per step in each backend method (the top 12). */
    private static void profiles(StringBuilder md, List<Aggregate> all) {
        for (Aggregate a : all) {
            StepResult r = a.first();
            if (r.profileMsPerStep() == null || r.profileMsPerStep().isEmpty()) continue;
            double total = r.profileMsPerStep().values().stream().mapToDouble(Double::doubleValue).sum();
            md.append("\n### Where our step goes: ").append(r.preset()).append(' ').append(r.objective()).append(" b")
                    .append(r.batch()).append(" t").append(r.seq()).append(" (--profile, ").append(fmt(r.medianMs()))
                    .append(" ms/step)\n\n| backend method | ms/step | share of backend time |\n|---|---|---|\n");
            r.profileMsPerStep().entrySet().stream().limit(12).forEach(e -> md.append("| ").append(e.getKey())
                    .append(" | ").append(fmt(e.getValue())).append(" | ").append(fmt(100 * e.getValue() / total))
                    .append("% |\n"));
        }
    }

    /** Both tools must have built the same model: the parameter counts of one preset and objective agree. */
    private static void parameterCheck(StringBuilder md, List<Aggregate> all) {
        Set<String> mismatches = new LinkedHashSet<>();
        for (Aggregate a : all) {
            for (Aggregate b : all) {
                StepResult x = a.first(), y = b.first();
                if (x.preset().equals(y.preset()) && x.objective().equals(y.objective())
                        && x.parameterCount() != y.parameterCount()) {
                    mismatches.add(x.preset() + " " + x.objective() + ": " + a.label() + " " + x.parameterCount()
                            + " vs " + b.label() + " " + y.parameterCount());
                }
            }
        }
        md.append(mismatches.isEmpty()
                ? "\nParameter counts agree between the tools for every preset and objective (same model shapes).\n"
                : "\n**Parameter counts differ** (the models are not the same shape): " + mismatches + "\n");
    }
}
