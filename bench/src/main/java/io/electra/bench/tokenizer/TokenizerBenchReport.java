package io.electra.bench.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.tokenizer.SpecialTokens;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;
import it.unimi.dsi.fastutil.ints.IntArrayList;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;

/**
 * Runs {@link TokenizerBench} and writes {@code bench/results/tokenizer.json}: MB/s and tokens/s for
 * each tokenizer and thread count, the ours/Rust ratios, and how many lines the two tokenizers
 * disagree on (HuggingFace's fast tokenizer differs from the slow one on a few exotic characters).
 *
 * <p>{@code DJL_OFFLINE=true java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar
 * io.electra.bench.tokenizer.TokenizerBenchReport [textBytes] [outFile]}
 */
public final class TokenizerBenchReport {
    public static void main(String[] args) throws Exception {
        long textBytes = args.length > 0 ? Long.parseLong(args[0]) : 4_000_000;
        Path outFile = Path.of(args.length > 1 ? args[1] : "bench/results/tokenizer.json");
        System.setProperty("DJL_OFFLINE", "true");

        BenchText text = BenchText.load(textBytes);
        Vocab vocab = Vocab.load(BenchText.shared().resolve("data/vocab/bert-base-uncased-vocab.txt"));
        WordPieceTokenizer ours = new WordPieceTokenizer(vocab, true, SpecialTokens.ANYWHERE);
        long tokens = 0, disagree = 0;
        try (HuggingFaceTokenizer rust = HuggingFaceTokenizer.newInstance(
                HfTokenizerJson.write(vocab, true, Files.createTempFile("bert-uncased", ".json")),
                Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"))) {
            IntArrayList ids = new IntArrayList();
            for (String line : text.lines) {
                ids.clear();
                ours.tokenize(line, ids);
                tokens += ids.size();
                long[] theirs = rust.encode(line, false, false).getIds();
                if (!Arrays.equals(Arrays.stream(ids.toIntArray()).asLongStream().toArray(), theirs)) disagree++;
            }
        }

        Options opt = new OptionsBuilder().include(TokenizerBench.class.getName())
                .param("textBytes", String.valueOf(textBytes)).shouldFailOnError(true).build();
        Collection<RunResult> results = new Runner(opt).run();

        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        BenchStamp.stamp(root, "DJL_OFFLINE=true java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar "
                + TokenizerBenchReport.class.getName() + " " + textBytes + " " + outFile);
        root.put("text", "gutenberg-en/valid.txt.gz, first " + text.lines.length + " non-blank lines");
        root.put("text_bytes", text.utf8Bytes);
        root.put("tokens", tokens);
        root.put("lines_where_ours_and_rust_differ", disagree);
        ObjectNode rates = root.putObject("results");
        double oursOne = 0, rustOne = 0, oursAll = 0, rustAll = 0;
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark().substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
            double ms = r.getPrimaryResult().getScore();
            double mbps = text.utf8Bytes / 1e6 / (ms / 1e3);
            ObjectNode n = rates.putObject(name);
            n.put("ms_per_pass", ms);
            n.put("ms_error", r.getPrimaryResult().getScoreError());
            n.put("mb_per_s", mbps);
            n.put("tokens_per_s", tokens / (ms / 1e3));
            switch (name) {
                case "oursOneThread" -> oursOne = mbps;
                case "rustOneThread" -> rustOne = mbps;
                case "oursAllThreads" -> oursAll = mbps;
                case "rustAllThreads" -> rustAll = mbps;
                default -> { }
            }
        }
        root.put("ratio_ours_over_rust_one_thread", oursOne / rustOne);
        root.put("ratio_ours_over_rust_all_threads", oursAll / rustAll);
        Files.createDirectories(outFile.toAbsolutePath().getParent());
        json.writeValue(outFile.toFile(), root);
        System.out.println(json.writeValueAsString(root));
    }
}
