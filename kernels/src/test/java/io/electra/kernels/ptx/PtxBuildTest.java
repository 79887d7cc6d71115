package io.electra.kernels.ptx;

import io.electra.kernels.runtime.Family;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The committed PTX is what the sources build to, and every kernel assembles for sm_80 and sm_90
 * (an sm_90a family for sm_90a) without spills. The manifest check needs no toolkit; the rebuild and ptxas checks need nvcc
 * and ptxas on the PATH and are skipped, visibly, without them.
 */
class PtxBuildTest {
    private static final Path CUDA = Path.of("src/main/cuda");
    private static final Path PTX = Path.of("src/main/resources/ptx");
    private static final Path SCRIPT = Path.of("scripts/build-ptx.sh");

    @Test
    void sourcesAreTheOnesTheCommittedPtxWasBuiltFrom() throws IOException {
        Map<String, String> manifest = new TreeMap<>();
        for (String line : Files.readAllLines(PTX.resolve("sources.sha256"))) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] parts = line.trim().split("\\s+");
            manifest.put(parts[1], parts[0]);
        }
        Map<String, String> actual = new TreeMap<>();
        try (Stream<Path> files = Files.list(CUDA)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".cu") || f.toString().endsWith(".cuh")).toList()) {
                actual.put(p.getFileName().toString(), sha256(Files.readAllBytes(p)));
            }
        }
        List<String> stale = new ArrayList<>();
        for (String name : new TreeSet<>(union(manifest.keySet(), actual.keySet()))) {
            if (!actual.containsKey(name)) stale.add(name + " (in the manifest, no longer a source)");
            else if (!manifest.containsKey(name)) stale.add(name + " (new source, never built)");
            else if (!manifest.get(name).equals(actual.get(name))) stale.add(name + " (changed since the PTX was built)");
        }
        assertTrue(stale.isEmpty(), "stale PTX: " + stale + "; run kernels/scripts/build-ptx.sh and commit the result");
    }

    @Test
    void everyFamilyHasASourceAndEverySourceAFamily() throws IOException {
        try (Stream<Path> files = Files.list(CUDA)) {
            List<String> sources = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .map(n -> n.substring(0, n.length() - 3)).sorted().toList();
            List<String> families = Stream.of(Family.values()).map(Family::id).sorted().toList();
            assertEquals(sources, families, "io.electra.kernels.runtime.Family must list exactly the .cu files");
        }
    }

    @Test
    void committedPtxEqualsAFreshBuild() throws Exception {
        assumeTool("nvcc", "PTX freshness check");
        String committedBy = toolkitLine(Files.readString(PTX.resolve("softmax.ptx")));
        String local = run(List.of("nvcc", "--version")).lines().filter(l -> l.startsWith("Cuda compilation tools")).findFirst().orElse("?");
        Assumptions.assumeTrue(committedBy.equals(local), "SKIPPED: the committed PTX was built by '" + committedBy
                + "' but the local nvcc is '" + local + "'; byte comparison needs the same toolkit (the manifest check still ran)");
        Path out = Files.createTempDirectory("ptx-fresh");
        run(List.of("bash", SCRIPT.toString(), out.toString()));
        List<String> stale = new ArrayList<>();
        try (Stream<Path> files = Files.list(PTX)) {
            for (Path committed : files.sorted().toList()) {
                Path fresh = out.resolve(committed.getFileName());
                if (!Files.exists(fresh) || Files.mismatch(committed, fresh) != -1) stale.add(committed.getFileName().toString());
            }
        }
        try (Stream<Path> files = Files.list(out)) {
            files.filter(f -> !Files.exists(PTX.resolve(f.getFileName()))).forEach(f -> stale.add(f.getFileName() + " (not committed)"));
        }
        assertTrue(stale.isEmpty(), "committed PTX differs from a fresh build: " + stale + "; run kernels/scripts/build-ptx.sh");
    }

    @Test
    void everyKernelAssemblesForSm80AndSm90WithoutSpills() throws Exception {
        assumeTool("ptxas", "ptxas assembly check");
        List<String> spills = new ArrayList<>();
        StringBuilder table = new StringBuilder(String.format("%-32s %-6s %5s %12s %12s%n", "kernel", "arch", "regs", "spill st (B)", "spill ld (B)"));
        List<Path> files;
        try (Stream<Path> s = Files.list(PTX)) {
            files = s.filter(p -> p.toString().endsWith(".ptx")).sorted().toList();
        }
        for (Path ptx : files) {
            // Portable PTX must assemble for Ampere and Hopper; an architecture-specific family for its own target.
            String name = ptx.getFileName().toString();
            List<String> archs = name.endsWith(".sm_90a.ptx") ? List.of("sm_90a") : List.of("sm_80", "sm_90");
            for (String arch : archs) {
                String log = run(List.of("ptxas", "-arch=" + arch, "-v", "-o", "/dev/null", ptx.toString()));
                // ptxas says so when it has to serialize wgmma (accumulators touched while in flight): correct but slow
                log.lines().filter(l -> l.contains("Potential Performance Loss")).forEach(l -> spills.add(name + ": " + l.trim()));
                for (PtxasReport.Entry e : PtxasReport.parse(log)) {
                    table.append(String.format("%-32s %-6s %5d %12d %12d%n", e.kernel(), arch, e.registers(), e.spillStores(), e.spillLoads()));
                    if (e.spillStores() > 0 || e.spillLoads() > 0) spills.add(e.kernel() + " on " + arch);
                }
            }
        }
        System.out.println("ptxas registers and spills per kernel:\n" + table);
        assertTrue(spills.isEmpty(), "kernels that spill registers or lose performance: " + spills);
    }

    private static void assumeTool(String tool, String what) {
        boolean found = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
        if (!found) System.out.println("SKIPPED: " + tool + " not on the PATH, " + what + " skipped");
        Assumptions.assumeTrue(found, tool + " not on the PATH: " + what + " skipped");
    }

    private static String toolkitLine(String ptx) {
        return ptx.lines().map(l -> l.replaceFirst("^//\\s*", "")).filter(l -> l.startsWith("Cuda compilation tools"))
                .findFirst().orElse("(no toolkit line in the PTX header)");
    }

    /** Runs a command, returns stdout + stderr; fails the test with that output on a non-zero exit. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (rc != 0) fail(String.join(" ", command) + " exited with " + rc + ":\n" + output);
        return output;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> List<T> union(java.util.Set<T> a, java.util.Set<T> b) {
        return Stream.concat(a.stream(), b.stream()).distinct().collect(Collectors.toList());
    }
}
