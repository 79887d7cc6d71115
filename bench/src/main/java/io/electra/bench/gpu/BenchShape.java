package io.electra.bench.gpu;

/**
 * A model size for the kernel benchmarks: N = batch * seq rows of C channels, H heads, FFN width,
 * vocabulary V, and K the masked (selected) rows, 15% of N as in ELECTRA's pre-training.
 */
record BenchShape(String name, int batch, int seq, int channels, int heads, int ffn, int vocab) {
    static final BenchShape SMALL = new BenchShape("electra-small", 128, 128, 256, 4, 1024, 30522);
    static final BenchShape BASE = new BenchShape("electra-base", 32, 512, 768, 12, 3072, 30522);
    /** The harness check (--smoke): every kernel once at a size the CUDA emulator runs in seconds. */
    static final BenchShape SMOKE = new BenchShape("smoke", 2, 32, 64, 2, 128, 1002);

    int rows() {
        return batch * seq;
    }

    int selected() {
        return rows() * 15 / 100;
    }

    String describe() {
        return name + " (B " + batch + ", T " + seq + ", C " + channels + ", H " + heads + ", FFN " + ffn + ", V " + vocab + ")";
    }
}
