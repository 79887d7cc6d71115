package io.electra.engine.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the shared test data: system property {@code electra.shared}, else environment
 * {@code ELECTRA_SHARED}, else {@code ../shared} beside the checkout. Missing data is a failure,
 * never a skip: a green run must have read the references.
 */
public final class SharedData {
    private SharedData() {
    }

    public static Path root() {
        String prop = System.getProperty("electra.shared");
        String env = System.getenv("ELECTRA_SHARED");
        Path p;
        if (prop != null && !prop.isBlank()) p = Path.of(prop);
        else if (env != null && !env.isBlank()) p = Path.of(env);
        else p = locateBesideCheckout();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("shared test data not found at " + p.toAbsolutePath()
                    + " (set -Delectra.shared=DIR or ELECTRA_SHARED)");
        }
        return p;
    }

    /** A file or folder under the shared root that must exist. */
    public static Path path(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) {
            throw new IllegalStateException("shared test data missing: " + p.toAbsolutePath());
        }
        return p;
    }

    private static Path locateBesideCheckout() {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
            Path candidate = dir.resolve("../shared").normalize();
            if (Files.isDirectory(candidate.resolve("fixtures"))) return candidate;
        }
        return Path.of("../shared");
    }
}
