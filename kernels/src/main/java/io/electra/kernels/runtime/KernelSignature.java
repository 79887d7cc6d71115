package io.electra.kernels.runtime;

import java.util.StringJoiner;

/**
 * The parameter list of one PTX entry point, as the launcher must fill it: per parameter its
 * class (an 8-byte integer, which is how PTX declares every pointer; a 4-byte integer; an f32;
 * or anything else) and its declaration text for messages. {@link #matches} runs before every
 * launch and allocates nothing; only a mismatch builds the message.
 */
final class KernelSignature {
    /** Parameter classes, one byte each. */
    static final byte WIDE_INT = 1, INT = 2, F32 = 3, OTHER = 4;

    private final String entry;
    private final byte[] classes;
    private final String[] types;   // ".u64", or the whole declaration for OTHER (".align 8 .b8 x[16]")
    private final String[] names;   // "dropout_forward_param_9", "" where nvcc mangled the entry

    KernelSignature(String entry, byte[] classes, String[] types, String[] names) {
        this.entry = entry;
        this.classes = classes;
        this.types = types;
        this.names = names;
    }

    String entry() {
        return entry;
    }

    int count() {
        return classes.length;
    }

    byte classOf(int i) {
        return classes[i];
    }

    String type(int i) {
        return types[i];
    }

    /** Whether the argument kinds recorded in {@code args} fill exactly this parameter list. */
    boolean matches(KernelArgs args) {
        int n = args.count();
        if (n != classes.length) return false;
        for (int i = 0; i < n; i++) {
            if (!fits(args.kind(i), classes[i])) return false;
        }
        return true;
    }

    static boolean fits(byte kind, byte paramClass) {
        return switch (kind) {
            case KernelArgs.PTR, KernelArgs.I64 -> paramClass == WIDE_INT;
            case KernelArgs.I32 -> paramClass == INT;
            case KernelArgs.F32 -> paramClass == F32;
            default -> false;
        };
    }

    /**
     * Why {@code args} does not fill this list (call only when {@link #matches} is false): the
     * first argument that is wrong, missing or extra, then both lists side by side.
     */
    String mismatch(KernelArgs args) {
        int n = args.count(), declared = classes.length;
        String first = null;
        for (int i = 0; i < Math.max(n, declared) && first == null; i++) {
            if (i >= n) {
                first = "argument " + i + " of " + declared + " is missing: the PTX declares " + declaration(i);
            } else if (i >= declared) {
                first = "argument " + i + " (" + KernelArgs.kindName(args.kind(i)) + ") is one too many: the PTX declares "
                        + declared + " parameter" + (declared == 1 ? "" : "s");
            } else if (!fits(args.kind(i), classes[i])) {
                first = "argument " + i + " of " + declared + " is " + KernelArgs.kindName(args.kind(i))
                        + " but the PTX declares " + declaration(i) + " (" + expected(classes[i]) + ")";
            }
        }
        StringJoiner passed = new StringJoiner(", ", "(", ")");
        for (int i = 0; i < n; i++) passed.add(KernelArgs.kindName(args.kind(i)));
        return first + "; passed " + passed + ", declared " + this;
    }

    private String declaration(int i) {
        return names[i].isEmpty() ? types[i] + " (parameter " + i + ")" : types[i] + " " + names[i];
    }

    private static String expected(byte paramClass) {
        return switch (paramClass) {
            case WIDE_INT -> "a pointer or 64-bit integer: pass ptr or i64";
            case INT -> "a 32-bit integer: pass i32";
            case F32 -> "a float: pass f32";
            default -> "a type KernelArgs cannot pass";
        };
    }

    /** "(.u64, .u64, .f32, ...)". */
    @Override
    public String toString() {
        StringJoiner s = new StringJoiner(", ", "(", ")");
        for (String t : types) s.add(t);
        return s.toString();
    }
}
