package io.electra.pretrain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoint folders {@code checkpoint-<step>} under one directory. Each is filled under a temporary
 * name, its files forced to disk, then renamed into place, so a crash or a kill leaves the previous
 * complete checkpoints untouched and never a half-written one under a real name. The last K are kept.
 */
public final class CheckpointStore {
    private static final Pattern COMPLETE = Pattern.compile("checkpoint-(\\d{9})");
    /** Written last inside a checkpoint: its presence marks the folder complete. */
    public static final String MARKER = "trainer_state.json";

    private final Path root;
    private final int keep;

    public CheckpointStore(Path root, int keep) throws IOException {
        if (keep < 1) throw new IllegalArgumentException("must keep at least one checkpoint, got " + keep);
        this.root = root;
        this.keep = keep;
        Files.createDirectories(root);
    }

    @Override
    public String toString() {
        return root.toString();
    }

    /** Fills a checkpoint folder. */
    public interface Contents {
        void writeTo(Path dir) throws IOException;
    }

    /** Writes checkpoint {@code step} atomically and prunes old ones; returns its folder. */
    public Path save(long step, Contents contents) throws IOException {
        Path fin = root.resolve(String.format("checkpoint-%09d", step));
        Path tmp = root.resolve(fin.getFileName() + ".tmp");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        contents.writeTo(tmp);
        if (!Files.isRegularFile(tmp.resolve(MARKER))) {
            throw new IllegalStateException("checkpoint contents must write " + MARKER + " last");
        }
        syncTree(tmp);
        Path old = null;
        if (Files.exists(fin)) { // re-saving the same step (a resumed run's first save): swap safely
            old = root.resolve(fin.getFileName() + ".old");
            deleteTree(old);
            Files.move(fin, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, fin, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) deleteTree(old);
        prune();
        return fin;
    }

    /** Complete checkpoints, oldest first. */
    public List<Path> complete() throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(p -> COMPLETE.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(MARKER)))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .forEach(out::add);
        }
        return out;
    }

    public Optional<Path> newest() throws IOException {
        List<Path> c = complete();
        return c.isEmpty() ? Optional.empty() : Optional.of(c.get(c.size() - 1));
    }

    private void prune() throws IOException {
        List<Path> c = complete();
        for (int i = 0; i < c.size() - keep; i++) deleteTree(c.get(i));
    }

    private static void syncTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                }
            }
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.delete(q);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
