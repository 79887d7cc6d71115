package io.electra.kernels.ops;

import io.electra.kernels.LedgerFile;
import io.electra.kernels.runtime.Family;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel a launcher looks up by name exists in its family's committed PTX, and every entry
 * of the PTX is looked up by some launcher. Without this, a misspelt or renamed entry shows only
 * on a GPU, when the backend opens. The launchers name their kernels as string literals in
 * {@code runtime.kernel(Family.X, "name")}, read here from the sources; the two that compute
 * names (flash attention, tensor-core GEMM) are held against the PTX by their plan tests.
 */
class LauncherEntryPointsTest {
    private static final Path OPS = Path.of("src/main/java/io/electra/kernels/ops");
    private static final Pattern LOOKUP = Pattern.compile("runtime\\.kernel\\(\\s*Family\\.(\\w+),\\s*([^)]*\\)?)\\s*\\)");
    private static final Pattern LITERAL = Pattern.compile("\"([A-Za-z0-9_]+)\"");
    private static final Set<String> COMPUTED = Set.of("FlashAttentionKernels.java", "GemmTcKernels.java");
    private static final Set<Family> COMPUTED_FAMILIES = Set.of(Family.FLASH_ATTENTION, Family.GEMM_TC, Family.GEMM_WGMMA);

    @Test
    void everyNamedKernelIsAnEntryOfItsFamilysPtxAndEveryEntryIsUsed() throws IOException {
        Map<String, Family> entries = LedgerFile.kernels();
        Set<String> looked = new TreeSet<>();
        List<String> wrong = new ArrayList<>();
        try (Stream<Path> files = Files.list(OPS)) {
            for (Path p : files.filter(f -> f.toString().endsWith("Kernels.java")).sorted().toList()) {
                String file = p.getFileName().toString();
                Matcher m = LOOKUP.matcher(Files.readString(p));
                while (m.find()) {
                    Family family = Family.valueOf(m.group(1));
                    Matcher literal = LITERAL.matcher(m.group(2));
                    if (!literal.matches()) {
                        if (!COMPUTED.contains(file)) wrong.add(file + ": kernel name '" + m.group(2) + "' is not a literal this test can read");
                        continue;
                    }
                    String name = literal.group(1);
                    looked.add(name);
                    if (entries.get(name) != family) {
                        wrong.add(file + ": " + name + " is not an entry of " + family.fileName()
                                + (entries.containsKey(name) ? " (it is in " + entries.get(name).fileName() + ")" : ""));
                    }
                }
            }
        }
        assertTrue(looked.size() >= 40, "only " + looked.size() + " kernel lookups found under " + OPS);
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
        Set<String> unused = new TreeSet<>();
        entries.forEach((name, family) -> {
            if (!COMPUTED_FAMILIES.contains(family) && !looked.contains(name)) unused.add(name);
        });
        assertEquals(Set.of(), unused, "PTX entries no launcher looks up (dead kernels, or a lookup this test cannot read)");
    }
}
