package io.electra.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class BenchMainTest {
    @Test
    void forkedJvmsGetTheVectorModuleUnlessTheUserSetsJvmArgs() {
        assertArrayEquals(new String[]{"-jvmArgsAppend", BenchMain.FORK_FLAGS, "-l"}, BenchMain.withForkFlags(new String[]{"-l"}));
        String[] own = {"-jvmArgs", "-Xmx1g", "Foo"};
        assertArrayEquals(own, BenchMain.withForkFlags(own));
    }
}
