package io.electra.kernels.ptx;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses {@code ptxas -v} output into registers and spill bytes per kernel. */
final class PtxasReport {
    record Entry(String kernel, int registers, int spillStores, int spillLoads) {
    }

    private static final Pattern FUNCTION = Pattern.compile("Compiling entry function '([^']+)'");
    private static final Pattern SPILLS = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");
    private static final Pattern REGISTERS = Pattern.compile("Used (\\d+) registers");

    private PtxasReport() {
    }

    static List<Entry> parse(String log) {
        List<Entry> entries = new ArrayList<>();
        String kernel = null;
        int stores = -1, loads = -1;
        for (String line : log.split("\n")) {
            Matcher f = FUNCTION.matcher(line), s = SPILLS.matcher(line), r = REGISTERS.matcher(line);
            if (f.find()) {
                kernel = f.group(1);
                stores = loads = -1;
            } else if (s.find() && kernel != null) {
                stores = Integer.parseInt(s.group(1));
                loads = Integer.parseInt(s.group(2));
            } else if (r.find() && kernel != null) {
                if (stores < 0) throw new IllegalStateException("ptxas reported registers before spills for " + kernel + ":\n" + log);
                entries.add(new Entry(kernel, Integer.parseInt(r.group(1)), stores, loads));
                kernel = null;
            }
        }
        if (entries.isEmpty()) throw new IllegalStateException("no kernels in the ptxas output:\n" + log);
        return entries;
    }
}
