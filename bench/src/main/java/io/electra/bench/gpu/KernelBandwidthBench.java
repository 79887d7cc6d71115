package io.electra.bench.gpu;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import io.electra.kernels.runtime.GpuTimer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;

/**
 * Achieved memory bandwidth of each memory-bound kernel at ELECTRA-Small and Base shapes, as a
 * fraction of a device-to-device copy measured in the same run (the practical ceiling; about
 * 4.3 TB/s on an H200). Each timing is one launch between CUDA events, after a 256 MiB memset
 * that evicts the L2 (50 MB on an H200), so no kernel reads its inputs from a warm cache; the
 * reported time is the median of the repetitions. Bytes are the kernel's compulsory traffic:
 * every input read once, every output written once.
 *
 * <p>Usage: {@code KernelBandwidthBench OUT.json [repetitions] [--smoke]} ({@code --smoke}: one tiny
 * shape, a check of the harness); exits with status 2 and a
 * message where no CUDA device answers.
 */
public final class KernelBandwidthBench {
    private static final long FLUSH_BYTES = 256L << 20;
    private final CudaBackend gpu;
    private final int repetitions;
    private final boolean smoke;
    private final Tensor flush;
    private final ArrayNode results;
    private double copyGBs;

    private KernelBandwidthBench(CudaBackend gpu, int repetitions, boolean smoke, ArrayNode results) {
        this.gpu = gpu;
        this.repetitions = repetitions;
        this.smoke = smoke;
        this.flush = gpu.allocate(DType.F32, (int) ((smoke ? FLUSH_BYTES >> 8 : FLUSH_BYTES) / 4));
        this.results = results;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: KernelBandwidthBench OUT.json [repetitions] [--smoke]");
            System.exit(64);
        }
        Path out = Path.of(args[0]);
        boolean smoke = java.util.Arrays.asList(args).contains("--smoke");
        int reps = smoke ? 2 : 20;
        for (int i = 1; i < args.length; i++) if (!args[i].equals("--smoke")) reps = Integer.parseInt(args[i]);
        CudaProbe probe = CudaBackend.tryCreate();
        if (!probe.isAvailable()) {
            System.err.println("KernelBandwidthBench: no CUDA device (" + probe.reason() + "); nothing measured");
            System.exit(2);
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        try (CudaBackend gpu = probe.backend().orElseThrow()) {
            root.put("gpu", gpu.deviceName());
            root.put("driver", "CUDA " + gpu.driverVersion() / 1000 + "." + (gpu.driverVersion() % 1000) / 10);
            root.put("commit", commit());
            root.put("command", "java " + KernelBandwidthBench.class.getName() + " " + String.join(" ", args));
            root.put("date", Instant.now().toString());
            root.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
            root.put("method", "one launch between CUDA events after a 256 MiB L2-evicting memset; median of " + reps);
            KernelBandwidthBench bench = new KernelBandwidthBench(gpu, reps, smoke, root.putArray("results"));
            bench.copyGBs = bench.measureCopy();
            root.put("copyBandwidthGBs", bench.copyGBs);
            BenchShape[] shapes = smoke ? new BenchShape[] {BenchShape.SMOKE} : new BenchShape[] {BenchShape.SMALL, BenchShape.BASE};
            for (BenchShape shape : shapes) {
                new KernelCases(gpu, shape, bench::measure).runAll();
                gpu.resetArena();
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        json.writeValue(out.toFile(), root);
        System.out.println("wrote " + out);
    }

    /** Device-to-device copy of 1 GiB (4 MiB in a smoke run): read + write bytes over time. */
    private double measureCopy() {
        int n = smoke ? 1 << 20 : 1 << 28;
        Tensor a = gpu.allocate(DType.F32, n), b = gpu.allocate(DType.F32, n);
        double ms = medianMillis(() -> gpu.copy(b, a));
        gpu.free(a);
        gpu.free(b);
        double gbs = 2.0 * 4 * n / (ms * 1e6);
        System.out.printf("device-to-device copy: %.0f GB/s%n", gbs);
        return gbs;
    }

    /** Times {@code call}, records GB/s for {@code bytes} of compulsory traffic. */
    void measure(String kernel, BenchShape shape, String tensors, long bytes, Runnable call) {
        double ms = medianMillis(call);
        double gbs = bytes / (ms * 1e6);
        ObjectNode r = results.addObject();
        r.put("kernel", kernel);
        r.put("shape", shape.describe());
        r.put("tensors", tensors);
        r.put("bytes", bytes);
        r.put("ms", ms);
        r.put("GBs", gbs);
        r.put("fractionOfCopy", gbs / copyGBs);
        System.out.printf("%-34s %-14s %-28s %9.3f ms %8.0f GB/s %5.1f%% of copy%n", kernel, shape.name(), tensors, ms, gbs,
                100 * gbs / copyGBs);
    }

    private double medianMillis(Runnable call) {
        for (int i = 0; i < 3; i++) call.run();  // warm-up: JIT, module first use, workspace growth
        double[] ms = new double[repetitions];
        try (GpuTimer timer = gpu.timer()) {
            for (int r = 0; r < repetitions; r++) {
                gpu.fill(flush, r);
                timer.start();
                call.run();
                ms[r] = timer.stopMillis();
            }
        }
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }

    private static String commit() {
        String p = System.getProperty("electra.commit");
        if (p != null && !p.isBlank()) return p;
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String s = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return git.waitFor() == 0 ? s : "unknown";
        } catch (IOException | InterruptedException e) {
            return "unknown";
        }
    }

    /** Kept for KernelCases: a key for the random kernels. */
    static final RngKey KEY = new RngKey(42, 1, RngKey.DROPOUT_BASE);
}
