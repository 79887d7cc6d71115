package io.electra.engine.nn;

import java.nio.file.Path;
import java.util.List;

/** A weights file that does not fit a module: every missing, unexpected and mis-shaped name, all at once. */
public final class StateMismatchException extends IllegalArgumentException {
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> mismatched;

    StateMismatchException(Path file, List<String> missing, List<String> unexpected, List<String> mismatched) {
        super(message(file, missing, unexpected, mismatched));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.mismatched = List.copyOf(mismatched);
    }

    private static String message(Path file, List<String> missing, List<String> unexpected, List<String> mismatched) {
        StringBuilder sb = new StringBuilder(file + " does not match the module:");
        if (!missing.isEmpty()) sb.append("\n  missing from the file: ").append(missing);
        if (!unexpected.isEmpty()) sb.append("\n  unexpected in the file: ").append(unexpected);
        if (!mismatched.isEmpty()) sb.append("\n  wrong shape or dtype: ").append(mismatched);
        return sb.toString();
    }

    /** Parameter names the file lacks. */
    public List<String> missing() {
        return missing;
    }

    /** File keys that name no parameter. */
    public List<String> unexpected() {
        return unexpected;
    }

    /** "name: file F32[2, 3] vs module [3, 2]" for each shape or dtype conflict. */
    public List<String> mismatched() {
        return mismatched;
    }
}
