package io.electra.bench.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.electra.tokenizer.SpecialTokens;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;
import it.unimi.dsi.fastutil.ints.IntArrayList;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Tokenizer throughput on the Gutenberg validation text (one operation = the whole text, no special
 * tokens added): ours against HuggingFace tokenizers (Rust, through DJL), one thread and all threads.
 * MB/s = {@code textBytes} / time per operation; {@link TokenizerBenchReport} runs this and writes
 * the ratios to bench/results.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class TokenizerBench {
    /** UTF-8 bytes of benchmark text (the whole validation shard is about 6.5 MB). */
    @Param("4000000")
    public long textBytes;

    String[] lines;
    WordPieceTokenizer ours;
    HuggingFaceTokenizer rust;
    ExecutorService pool;
    int threads;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        System.setProperty("DJL_OFFLINE", "true");
        BenchText text = BenchText.load(textBytes);
        lines = text.lines;
        Vocab vocab = Vocab.load(BenchText.shared().resolve("data/vocab/bert-base-uncased-vocab.txt"));
        ours = new WordPieceTokenizer(vocab, true, SpecialTokens.ANYWHERE);
        Path json = HfTokenizerJson.write(vocab, true, Files.createTempFile("bert-uncased", ".json"));
        rust = HuggingFaceTokenizer.newInstance(json, Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        threads = Runtime.getRuntime().availableProcessors();
        pool = Executors.newFixedThreadPool(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.shutdownNow();
        rust.close();
    }

    @Benchmark
    public long oursOneThread() {
        IntArrayList ids = new IntArrayList();
        long n = 0;
        for (String line : lines) {
            ids.clear();
            ours.tokenize(line, ids);
            n += ids.size();
        }
        return n;
    }

    @Benchmark
    public long rustOneThread() {
        long n = 0;
        for (String line : lines) {
            Encoding e = rust.encode(line, false, false);
            n += e.getIds().length;
        }
        return n;
    }

    @Benchmark
    public long oursAllThreads() throws Exception {
        return parallel(true);
    }

    @Benchmark
    public long rustAllThreads() throws Exception {
        return parallel(false);
    }

    /** Both tokenizers split the lines the same way over the same Java thread pool. */
    private long parallel(boolean useOurs) throws Exception {
        List<Future<Long>> parts = new ArrayList<>();
        int chunk = (lines.length + threads - 1) / threads;
        for (int t = 0; t < threads; t++) {
            int from = t * chunk, to = Math.min(lines.length, from + chunk);
            parts.add(pool.submit(() -> {
                long n = 0;
                IntArrayList ids = new IntArrayList();
                for (int i = from; i < to; i++) {
                    if (useOurs) {
                        ids.clear();
                        ours.tokenize(lines[i], ids);
                        n += ids.size();
                    } else {
                        n += rust.encode(lines[i], false, false).getIds().length;
                    }
                }
                return n;
            }));
        }
        long n = 0;
        for (Future<Long> f : parts) n += f.get();
        return n;
    }
}
