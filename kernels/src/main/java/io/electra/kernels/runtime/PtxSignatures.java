package io.electra.kernels.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the parameter list of every {@code .entry} in a PTX text, so each launch can be held
 * against what its kernel declares (a wrong argument would otherwise be silent garbage or a
 * fault that poisons the context). nvcc writes one {@code .param} per line:
 * {@code .param .u64 dropout_forward_param_9}, or {@code .param .align 8 .b8 name[16]} for a
 * struct passed by value, optionally with {@code .ptr .global .align N} after the type.
 */
final class PtxSignatures {
    private static final Pattern ENTRY = Pattern.compile("(?m)^\\s*(?:\\.visible\\s+|\\.weak\\s+)?\\.entry\\s+([A-Za-z_$%][\\w$]*)\\s*\\(");
    private static final Pattern ALIGN = Pattern.compile("\\.align\\s+\\d+\\s*");
    private static final Pattern SPACE = Pattern.compile("\\.(?:ptr|global|const|shared|local)\\b\\s*");

    private PtxSignatures() {
    }

    /** Every entry's signature by name, in file order; {@code file} names the module in errors. */
    static Map<String, KernelSignature> parse(String ptx, String file) {
        Map<String, KernelSignature> entries = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            String entry = m.group(1);
            int close = ptx.indexOf(')', m.end());
            if (close < 0) throw new IllegalStateException(file + ": the parameter list of .entry " + entry + " is not closed");
            entries.put(entry, signature(entry, ptx.substring(m.end(), close), file));
        }
        return entries;
    }

    private static KernelSignature signature(String entry, String list, String file) {
        List<String> params = new ArrayList<>();
        for (String p : list.split(",")) {
            if (!p.isBlank()) params.add(p.strip().replaceAll("\\s+", " "));
        }
        int n = params.size();
        byte[] classes = new byte[n];
        String[] types = new String[n], names = new String[n];
        for (int i = 0; i < n; i++) {
            String p = params.get(i);
            if (!p.startsWith(".param ")) {
                throw new IllegalStateException(file + ": parameter " + i + " of .entry " + entry + " is not a .param: '" + p + "'");
            }
            String decl = p.substring(".param ".length());
            String[] words = SPACE.matcher(ALIGN.matcher(decl).replaceAll("")).replaceAll("").strip().split(" ");
            String type = words[0], name = words[words.length - 1];
            boolean array = name.contains("[");
            classes[i] = array || words.length != 2 ? KernelSignature.OTHER : classOf(type);
            types[i] = classes[i] == KernelSignature.OTHER ? decl : type;
            // nvcc names extern "C" parameters <entry>_param_<i>; a mangled entry's names say nothing more than the index
            names[i] = array || classes[i] == KernelSignature.OTHER || entry.startsWith("_Z") ? "" : name;
        }
        return new KernelSignature(entry, classes, types, names);
    }

    private static byte classOf(String type) {
        return switch (type) {
            case ".u64", ".s64", ".b64" -> KernelSignature.WIDE_INT;
            case ".u32", ".s32", ".b32" -> KernelSignature.INT;
            case ".f32" -> KernelSignature.F32;
            default -> KernelSignature.OTHER;
        };
    }
}
