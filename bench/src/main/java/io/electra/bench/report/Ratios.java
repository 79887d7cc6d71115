package io.electra.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The comparisons the report leads with, each a ratio of two configurations measured in the same run:
 * <ul>
 *   <li>speed-up of ours over a PyTorch variant: their step time / ours (above 1: we are faster);</li>
 *   <li>ELECTRA/BERT: a tool's ELECTRA step time / its masked-LM step time at the same preset and shape
 *       (the paper's claim is that this is little above 1).</li>
 * </ul>
 * Each ratio is given twice: from wall time (what a user waits) and from process CPU time (steadier when
 * other processes share the cores, but spin-waiting threads inflate it).
 */
public final class Ratios {
    /** One ratio of step times: {@code wall} from median wall times, {@code cpu} from median CPU times. */
    public record Ratio(String kind, String preset, int batch, int seq, String objective, String tool, String against,
                        double wall, double cpu) {
    }

    private Ratios() {
    }

    public static List<Ratio> of(List<Aggregate> all) {
        List<Ratio> out = new ArrayList<>();
        for (Aggregate a : all) {
            StepResult r = a.first();
            if (r.variant().endsWith("profiled")) continue; // the profiler's proxy costs a little
            if (r.tool().equals("electra-java") && r.variant().equals("ours")) {
                for (Aggregate t : all) {
                    StepResult o = t.first();
                    if (o.tool().equals("pytorch") && sameShape(r, o) && o.objective().equals(r.objective())) {
                        out.add(new Ratio("speedup", r.preset(), r.batch(), r.seq(), r.objective(), "electra-java",
                                o.variant(), t.medianMs() / a.medianMs(), t.medianCpuMs() / a.medianCpuMs()));
                    }
                }
            }
            if (r.objective().equals("electra")) {
                find(all, r, "mlm").ifPresent(m -> out.add(new Ratio("electra/bert", r.preset(), r.batch(), r.seq(),
                        "electra", a.label(), "mlm", a.medianMs() / m.medianMs(), a.medianCpuMs() / m.medianCpuMs())));
            }
        }
        out.sort(java.util.Comparator.comparingInt((Ratio x) -> Aggregate.presetOrder(x.preset()))
                .thenComparingInt(Ratio::batch).thenComparing(x -> x.kind().equals("speedup") ? 0 : 1)
                .thenComparing(Ratio::objective).thenComparing(Ratio::tool).thenComparing(Ratio::against));
        return out;
    }

    private static boolean sameShape(StepResult a, StepResult b) {
        return a.device().equals(b.device()) && a.preset().equals(b.preset()) && a.batch() == b.batch()
                && a.seq() == b.seq() && a.threads() == b.threads();
    }

    private static Optional<Aggregate> find(List<Aggregate> all, StepResult like, String objective) {
        return all.stream().filter(x -> x.first().tool().equals(like.tool()) && x.first().variant().equals(like.variant())
                && sameShape(x.first(), like) && x.first().objective().equals(objective)).findFirst();
    }
}
