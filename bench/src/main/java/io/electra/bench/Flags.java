package io.electra.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} command-line flags for the benchmark mains. An unknown flag, a flag without
 * its value or a value of the wrong type is an {@link IllegalArgumentException} naming the flag.
 */
public final class Flags {
    private final Map<String, String> values = new LinkedHashMap<>();

    public Flags(String[] args, Set<String> known) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("expected a --flag, got '" + a + "'");
            String name = a.substring(2), value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= args.length) throw new IllegalArgumentException("--" + name + " needs a value");
                value = args[++i];
            }
            if (!known.contains(name)) throw new IllegalArgumentException("unknown flag --" + name + "; known: " + known);
            values.put(name, value);
        }
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public String get(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    public int getInt(String name, int fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs an integer, got '" + v + "'");
        }
    }

    public double getDouble(String name, double fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs a number, got '" + v + "'");
        }
    }

    /** A comma-separated list; {@code fallback} when the flag is absent. */
    public List<String> getList(String name, List<String> fallback) {
        String v = values.get(name);
        if (v == null) return fallback;
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) if (!s.isBlank()) out.add(s.trim());
        if (out.isEmpty()) throw new IllegalArgumentException("--" + name + " needs at least one value");
        return out;
    }

    public List<Integer> getIntList(String name) {
        List<Integer> out = new ArrayList<>();
        for (String s : getList(name, List.of())) {
            try {
                out.add(Integer.parseInt(s));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + name + " needs integers, got '" + s + "'");
            }
        }
        return out;
    }
}
