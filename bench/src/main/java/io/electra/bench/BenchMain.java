package io.electra.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The entry point of {@code java -jar bench/target/benchmarks.jar}: JMH's own command line, with the
 * JVM flags every electra-java process needs ({@code --add-modules jdk.incubator.vector}) appended to
 * the forked benchmark JVMs. A plain {@code java -jar} host has no such flags for JMH to pass on, and
 * the manifest cannot add a module. Giving {@code -jvmArgs} or {@code -jvmArgsAppend} yourself turns
 * this off.
 */
public final class BenchMain {
    static final String FORK_FLAGS = "--add-modules=jdk.incubator.vector -Xss4m";

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(withForkFlags(args));
    }

    static String[] withForkFlags(String[] args) {
        List<String> a = Arrays.asList(args);
        if (a.contains("-jvmArgs") || a.contains("-jvmArgsAppend")) return args;
        List<String> out = new ArrayList<>(List.of("-jvmArgsAppend", FORK_FLAGS));
        out.addAll(a);
        return out.toArray(String[]::new);
    }
}
