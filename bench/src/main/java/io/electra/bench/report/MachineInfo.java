package io.electra.bench.report;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where a benchmark ran: commit, CPU model and cores, memory, JVM, OS, and the GPU (name, driver,
 * CUDA version) when {@code nvidia-smi} answers. Values that cannot be read are "unknown", never fatal.
 */
public final class MachineInfo {
    private MachineInfo() {
    }

    public static Map<String, Object> collect() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("commit", command("git", "rev-parse", "HEAD"));
        m.put("commitDirty", !command("git", "status", "--porcelain", "--untracked-files=no").isEmpty());
        m.put("hostname", hostname());
        m.put("cpuModel", cpuModel());
        m.put("cpuCores", Runtime.getRuntime().availableProcessors());
        m.put("memoryBytes", memoryBytes());
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("jvmArgs", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        String gpu = command("nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader");
        if (!gpu.isEmpty()) {
            m.put("gpu", gpu);
            String smi = command("nvidia-smi");
            int at = smi.indexOf("CUDA Version:");
            if (at >= 0) m.put("cudaVersion", smi.substring(at + 13).trim().split("\\s+")[0]);
        }
        return m;
    }

    /** The first "model name" of /proc/cpuinfo. */
    static String cpuModel() {
        for (String line : lines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
        }
        return System.getProperty("os.arch");
    }

    private static long memoryBytes() {
        for (String line : lines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) return 1024L * Long.parseLong(line.replaceAll("\\D", ""));
        }
        return -1;
    }

    private static String hostname() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) return h;
        List<String> l = lines(Path.of("/etc/hostname"));
        return l.isEmpty() ? command("hostname") : l.get(0).trim();
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return List.of();
        }
    }

    /** stdout of a short command, trimmed; empty when it is missing, fails or hangs. */
    static String command(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) return "";
            return new String(out, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
