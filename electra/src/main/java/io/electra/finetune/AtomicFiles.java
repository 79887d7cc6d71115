package io.electra.finetune;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes files and folders under a temporary name and renames them into place. */
final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes {@code text} (UTF-8) to {@code file} so readers see the old file or the new one, never half of it. */
    static void writeString(Path file, String text) throws IOException {
        Path tmp = temporarySibling(file);
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes {@code bytes} to {@code file} atomically, as {@link #writeString}. */
    static void writeBytes(Path file, byte[] bytes) throws IOException {
        Path tmp = temporarySibling(file);
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Fills a folder under a temporary name, then swaps it in for {@code dir}: an interrupted save
     * leaves the previous folder (or none), never a half-written one under the real name.
     */
    static void replaceFolder(Path dir, FolderFiller filler) throws IOException {
        Path abs = dir.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        Path old = abs.resolveSibling(abs.getFileName() + ".old");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        filler.writeTo(tmp);
        deleteTree(old);
        if (Files.exists(abs)) Files.move(abs, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) Files.delete(q);
        }
    }

    private static Path temporarySibling(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        return Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".partial");
    }

    /** Fills the folder it is given. */
    @FunctionalInterface
    interface FolderFiller {
        void writeTo(Path target) throws IOException;
    }
}
