package io.electra.bench.step;

import io.electra.bench.Flags;
import io.electra.bench.report.BenchJson;
import io.electra.bench.report.MachineInfo;
import io.electra.bench.report.RunFile;
import io.electra.bench.report.StepResult;
import io.electra.engine.Backend;
import io.electra.engine.Precision;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import io.electra.model.Preset;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Training-step throughput of ELECTRA and of the BERT masked-LM baseline: for each preset, objective and
 * batch size, a fresh backend and model, warm-up steps, then timed steps; prints a line per
 * configuration and writes every step time to JSON. Not JMH: a step at Base takes seconds on a
 * small CPU, and what matters is the whole step, end to end, as training runs it.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.electra.bench.step.StepBenchmark \
 *     --presets tiny,small2l --objectives electra,mlm --threads 2 --out run.json
 * </pre>
 * Flags: {@code --device cpu|cuda}, {@code --threads}, {@code --presets}, {@code --objectives},
 * {@code --batch} (one or a comma list; default per preset), {@code --seq} (default 128),
 * {@code --warmup}, {@code --steps}, {@code --seed}, {@code --round} (a label), {@code --out},
 * {@code --profile true} (time per backend method; CPU only, and it slows the step slightly),
 * {@code --precision fp32|bf16} and {@code --graph on|off} (defaults: bf16 with the step replayed as a CUDA
 * graph on cuda, as training runs there; fp32 eager on the CPU). Results in the device's default mode
 * are variant "ours"; others are named by what ran, e.g. "ours-bf16-eager" (graph vs eager launches).
 */
public final class StepBenchmark {
    private static final Set<String> FLAGS = Set.of("device", "threads", "presets", "objectives", "batch", "seq",
            "warmup", "steps", "seed", "round", "out", "profile", "precision", "graph");

    /** The variant name of a profiled run: kept apart from the plain runs, since the proxy costs a little. */
    public static final String PROFILED = "ours-profiled";

    private StepBenchmark() {
    }

    /** Batch sizes that fit a 2-core CPU in a few seconds per step; the PyTorch run must use the same. */
    static int defaultBatch(String preset, String device) {
        if (device.equals("cuda")) return 128;
        return switch (preset) {
            case "tiny" -> 16;
            case "small2l", "small" -> 8;
            default -> 2;
        };
    }

    public static void main(String[] args) throws Exception {
        Flags f;
        try {
            f = new Flags(args, FLAGS);
        } catch (IllegalArgumentException e) {
            System.err.println("StepBenchmark: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (f.get("device", "cpu").equals("cuda")) {  // a clear line and status 2, as the GPU benchmarks give
            CudaProbe probe = CudaBackend.tryCreate();
            if (!probe.isAvailable()) {
                System.err.println("StepBenchmark: no CUDA device (" + probe.reason() + "); nothing measured");
                System.exit(2);
            }
            probe.backend().orElseThrow().close();
        }
        String command = "java " + String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean()
                .getInputArguments()) + " " + StepBenchmark.class.getName() + " " + String.join(" ", args);
        List<StepResult> results = run(f, BackendFactory.standard(), command);
        if (f.has("out")) {
            Map<String, Object> env = MachineInfo.collect();
            BenchJson.write(Path.of(f.get("out", "")), new RunFile(env, results));
            System.out.println("wrote " + f.get("out", ""));
        }
    }

    static List<StepResult> run(Flags f, BackendFactory backends, String command) {
        String device = f.get("device", "cpu");
        int threads = f.getInt("threads", Runtime.getRuntime().availableProcessors());
        List<String> presets = f.getList("presets", List.of("tiny", "small2l", "small", "base"));
        List<Objective> objectives = f.getList("objectives", List.of("electra", "mlm")).stream().map(Objective::parse).toList();
        List<Integer> batches = f.getIntList("batch");
        int seq = f.getInt("seq", 128);
        int warmup = f.getInt("warmup", 3), steps = f.getInt("steps", 10), round = f.getInt("round", 0);
        long seed = f.getInt("seed", 1234);
        boolean profile = Boolean.parseBoolean(f.get("profile", "false"));
        boolean cuda = device.equals("cuda");
        Precision precision = Precision.parse(f.get("precision", cuda ? "bf16" : "fp32"));
        String graphFlag = f.get("graph", cuda ? "on" : "off");
        if (!graphFlag.equals("on") && !graphFlag.equals("off")) throw new IllegalArgumentException("--graph on|off, got " + graphFlag);
        Mode mode = new Mode(precision, graphFlag.equals("on"), cuda);
        if (steps < 1 || warmup < 0) throw new IllegalArgumentException("need --steps >= 1 and --warmup >= 0");

        List<StepResult> out = new ArrayList<>();
        for (String name : presets) {
            Preset preset = Preset.named(name);
            for (int batch : batches.isEmpty() ? List.of(defaultBatch(preset.name(), device)) : batches) {
                for (Objective objective : objectives) {
                    StepResult r = measure(backends, device, threads, preset, objective, batch, seq, warmup, steps,
                            seed, round, command, profile, mode);
                    out.add(r);
                    System.out.printf("%-8s %-7s b%-3d t%-4d %9.1f ms/step %9.2f seq/s %10.0f tok/s  loss %.3f -> %.3f%n",
                            r.preset(), r.objective(), r.batch(), r.seq(), r.medianMs(), r.sequencesPerSecond(),
                            r.tokensPerSecond(), r.firstLoss(), r.lastLoss());
                    if (r.profileMsPerStep() != null) {
                        r.profileMsPerStep().forEach((k, v) -> System.out.printf("    %-24s %10.1f ms/step%n", k, v));
                    }
                }
            }
        }
        return out;
    }

    static StepResult measure(BackendFactory backends, String device, int threads, Preset preset, Objective objective,
                              int batch, int seq, int warmup, int steps, long seed, int round, String command,
                              boolean profile, Mode mode) {
        System.gc();
        MemoryProbe.resetHeapPeaks();
        MemoryProbe.resetProcessPeak();
        try (Backend real = backends.open(device, threads)) {
            Map.Entry<Backend, BackendProfile> profiled = profile ? BackendProfile.wrap(real) : null;
            Backend backend = profile ? profiled.getKey() : real;
            try (StepHarness h = new StepHarness(backend, preset, objective, batch, seq, seed, mode.precision(), mode.graph())) {
                double first = Double.NaN, last = Double.NaN;
                for (int i = 0; i < warmup; i++) {
                    double loss = h.step();
                    if (i == 0) first = loss;
                }
                if (profile) profiled.getValue().reset();
                double[] ms = new double[steps], cpuMs = new double[steps];
                for (int i = 0; i < steps; i++) {
                    long c0 = MemoryProbe.processCpuNanos(), t0 = System.nanoTime();
                    last = h.step();
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                    cpuMs[i] = (MemoryProbe.processCpuNanos() - c0) / 1e6;
                    if (warmup == 0 && i == 0) first = last;
                }
                double median = median(ms);
                boolean graphed = h.graphStatus().startsWith("graph");
                System.out.println("  " + preset.name() + " " + objective.key() + ": " + mode.precision() + ", " + h.graphStatus());
                return new StepResult("electra-java", profile ? PROFILED : mode.variant(graphed), device, preset.name(), objective.key(), batch, seq,
                        threads, round, "masked", warmup, ms, median, median(cpuMs), MemoryProbe.loadAverage(),
                        batch * 1000.0 / median, (double) batch * seq * 1000.0 / median, h.parameterCount(),
                        MemoryProbe.processPeakRssBytes(), real.memoryStats().peakBytes(), MemoryProbe.heapPeakBytes(),
                        first, last, command, profile ? profiled.getValue().msPerStep(steps) : null);
            }
        }
    }

    /** How our step runs: its precision, whether a graph was asked for, and the device's default. */
    record Mode(Precision precision, boolean graph, boolean cuda) {
        /** "ours" in the device's default mode (bf16 + graph on cuda, fp32 eager on the CPU), else what ran. */
        String variant(boolean graphed) {
            Precision usual = cuda ? Precision.BF16 : Precision.FP32;
            if (precision == usual && graphed == cuda) return "ours";
            return "ours-" + precision.name().toLowerCase(java.util.Locale.ROOT) + "-" + (graphed ? "graph" : "eager");
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
