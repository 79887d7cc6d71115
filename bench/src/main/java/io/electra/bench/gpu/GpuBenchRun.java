package io.electra.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.engine.io.HalfFloats;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import io.electra.kernels.runtime.GpuTimer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What the tensor-core benchmarks share: the JSON stamp (GPU, driver, commit, command, date, JVM),
 * median timing with CUDA events after warm-up, and the PyTorch side's results, read from the JSON
 * that bench/scripts/*_torch.py wrote in the same run (case name to milliseconds).
 */
final class GpuBenchRun {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private GpuBenchRun() {
    }

    /** The backend, or exit 2 with the reason: a benchmark without a device measures nothing. */
    static CudaBackend backendOrExit(String bench) {
        CudaProbe probe = CudaBackend.tryCreate();
        if (!probe.isAvailable()) {
            System.err.println(bench + ": no CUDA device (" + probe.reason() + "); nothing measured");
            System.exit(2);
        }
        return probe.backend().orElseThrow();
    }

    static ObjectNode stamp(CudaBackend gpu, Class<?> bench, String[] args, String method) {
        ObjectNode root = JSON.createObjectNode();
        root.put("gpu", gpu.deviceName());
        root.put("driver", "CUDA " + gpu.driverVersion() / 1000 + "." + (gpu.driverVersion() % 1000) / 10);
        root.put("commit", commit());
        root.put("command", "java " + bench.getName() + " " + String.join(" ", args));
        root.put("date", Instant.now().toString());
        root.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        root.put("method", method);
        return root;
    }

    /** Median device milliseconds of {@code reps} timed calls after 3 untimed ones. */
    static double medianMillis(CudaBackend gpu, int reps, Runnable call) {
        for (int i = 0; i < 3; i++) call.run();
        double[] ms = new double[reps];
        try (GpuTimer timer = gpu.timer()) {
            for (int r = 0; r < reps; r++) {
                timer.start();
                call.run();
                ms[r] = timer.stopMillis();
            }
        }
        Arrays.sort(ms);
        return ms[reps / 2];
    }

    /** The torch script's {"cases": [{"name": ..., "ms": ...}]}, as name -> ms; empty without a file. */
    static Map<String, Double> torchMillis(Path file) throws IOException {
        Map<String, Double> out = new HashMap<>();
        if (file == null) return out;
        JsonNode root = JSON.readTree(file.toFile());
        JsonNode cases = root.path("cases");
        if (!cases.isArray()) throw new IOException(file + ": no \"cases\" array (written by bench/scripts/*_torch.py?)");
        for (JsonNode c : cases) {
            if (!c.has("name") || !c.has("ms")) throw new IOException(file + ": a case lacks \"name\" or \"ms\": " + c);
            out.put(c.get("name").asText(), c.get("ms").asDouble());
        }
        return out;
    }

    static void write(Path out, ObjectNode root) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        JSON.writeValue(out.toFile(), root);
        System.out.println("wrote " + out);
    }

    /**
     * n bf16 values, N(0, 1) rounded to bf16 bits, from a fixed seed (the torch scripts draw their
     * own): benchmarks time random data, since constant data can run faster than real data.
     */
    static short[] randomBf16(long n, long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        short[] bits = new short[Math.toIntExact(n)];
        for (int i = 0; i < bits.length; i++) bits[i] = HalfFloats.floatToBf16((float) random.nextGaussian());
        return bits;
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
}
