package io.electra.corpus;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Expands corpus arguments into files: a file is used as given; a directory contributes, in path
 * order, every file below it named {@code *.txt}, {@code *.raw} or those plus {@code .gz} (so a
 * {@code manifest.tsv} beside the shards is not read as text).
 */
final class CorpusFiles {
    private CorpusFiles() {
    }

    /** A corpus file and its size on disk. */
    record SourceFile(Path path, long bytes) {
    }

    static List<SourceFile> expand(List<Path> inputs) throws IOException {
        if (inputs.isEmpty()) throw new IllegalArgumentException("no corpus given");
        List<SourceFile> out = new ArrayList<>();
        for (Path in : inputs) {
            if (!Files.exists(in)) throw new NoSuchFileException(in.toString(), null, "corpus path not found");
            if (Files.isDirectory(in)) {
                List<Path> found;
                try (Stream<Path> walk = Files.walk(in)) {
                    found = walk.filter(Files::isRegularFile).filter(CorpusFiles::isTextName).sorted().toList();
                }
                if (found.isEmpty()) {
                    throw new IllegalArgumentException("corpus directory " + in + " holds no *.txt, *.raw or *.gz files");
                }
                for (Path p : found) out.add(checked(p));
            } else {
                out.add(checked(in));
            }
        }
        return out;
    }

    private static boolean isTextName(Path p) {
        String n = p.getFileName().toString();
        if (n.startsWith(".")) return false;
        if (n.endsWith(".gz")) n = n.substring(0, n.length() - 3);
        return n.endsWith(".txt") || n.endsWith(".raw") || !n.equals(p.getFileName().toString());
    }

    private static SourceFile checked(Path p) throws IOException {
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException("corpus path " + p + " is not a regular file");
        if (!Files.isReadable(p)) throw new AccessDeniedException(p.toString(), null, "corpus file is not readable");
        return new SourceFile(p, Files.size(p));
    }
}
