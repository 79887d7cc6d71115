package io.electra.bench.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.corpus.CorpusPreparer;
import io.electra.corpus.ShardIndex;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code electra prepare} on the whole shared corpus: wall time and peak heap. Run it with the heap
 * limit under test, e.g.
 * {@code java -Xmx1g --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar
 * io.electra.bench.tokenizer.PrepareBench OUT_DIR [threads] [resultFile]}.
 */
public final class PrepareBench {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        Path resultFile = Path.of(args.length > 2 ? args[2] : "bench/results/prepare.json");
        Path shared = BenchText.shared();
        CorpusPreparer.Config config = new CorpusPreparer.Config(List.of(shared.resolve("data/corpus/gutenberg-en")),
                shared.resolve("data/vocab/bert-base-uncased-vocab.txt"), out, 128, 12345, true, threads, 262144, true);
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) pool.resetPeakUsage();
        long start = System.nanoTime();
        ShardIndex index = new CorpusPreparer(config, w -> System.err.println("warning: " + w)).run();
        double seconds = (System.nanoTime() - start) / 1e9;
        long peakHeap = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) peakHeap += pool.getPeakUsage().getUsed();
        }
        long textBytes = 0;
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        BenchStamp.stamp(root, "java " + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments())
                + " -cp bench/target/benchmarks.jar " + PrepareBench.class.getName() + " " + String.join(" ", args));
        root.put("threads", threads);
        root.put("corpus_bytes_on_disk", index.sources().stream().mapToLong(ShardIndex.Source::bytes).sum());
        root.put("files", index.sources().size());
        root.put("wall_seconds", seconds);
        root.put("peak_heap_bytes_sum_of_pools", peakHeap);
        root.put("rows", index.rows());
        root.put("corpus_tokens", index.corpusTokens());
        root.put("tokens_per_s", index.corpusTokens() / seconds);
        root.put("documents", index.documents());
        root.put("lines", index.lines());
        Files.createDirectories(resultFile.toAbsolutePath().getParent());
        json.writeValue(resultFile.toFile(), root);
        System.out.println(json.writeValueAsString(root));
    }
}
