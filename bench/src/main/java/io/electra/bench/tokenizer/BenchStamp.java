package io.electra.bench.tokenizer;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Commit, hardware, JVM and command line, stamped on every result file. */
final class BenchStamp {
    private BenchStamp() {
    }

    static void stamp(ObjectNode node, String command) {
        node.put("commit", run("git", "rev-parse", "HEAD"));
        node.put("cpu", cpuModel());
        node.put("cores", Runtime.getRuntime().availableProcessors());
        node.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        node.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        node.put("command", command);
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException ignored) {
            // not Linux: the architecture is the best we have
        }
        return System.getProperty("os.arch");
    }

    private static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "unknown";
        } catch (IOException | InterruptedException e) {
            return "unknown";
        }
    }
}
