package io.electra.cli;

import io.electra.corpus.CorpusPreparer;
import io.electra.corpus.ShardIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code electra prepare}: corpus text to pre-training shards (see {@link io.electra.corpus}). */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Tokenize a text corpus and pack it into fixed-length pre-training rows (ELECTRA's build_pretraining_dataset).")
final class PrepareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--corpus", required = true, arity = "1..*", paramLabel = "PATH",
            description = "Text files or directories of them (*.txt, *.raw, *.gz), plain or gzip; a blank line ends a document.")
    List<Path> corpus;

    @Option(names = "--vocab", required = true, paramLabel = "FILE", description = "BERT vocab.txt.")
    Path vocab;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory for the shards and index.json.")
    Path out;

    @Option(names = "--max-length", defaultValue = "128", paramLabel = "N", description = "Tokens per row (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--seed", defaultValue = "12345", paramLabel = "S", description = "Seed for segment splits and short rows (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--cased", description = "Cased vocabulary: no lower-casing or accent stripping.")
    boolean cased;

    @Option(names = "--threads", paramLabel = "N", description = "Tokenizer threads (default: all cores).")
    Integer threads;

    @Option(names = "--rows-per-shard", defaultValue = "262144", paramLabel = "N", description = "Rows per shard file (default ${DEFAULT-VALUE}).")
    long rowsPerShard;

    @Option(names = "--overwrite", description = "Replace a dataset already in --out.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        CorpusPreparer preparer = new CorpusPreparer(new CorpusPreparer.Config(corpus, vocab, out, maxLength, seed,
                !cased, n, rowsPerShard, overwrite), msg -> err.println("electra prepare: warning: " + msg));
        CorpusPreparer.Progress p = preparer.progress();
        long start = System.nanoTime();
        ShardIndex index;
        try (ProgressLine ignored = new ProgressLine(err, () -> {
            double s = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
            double fraction = p.diskBytesTotal == 0 ? 1 : (double) p.diskBytesRead.get() / p.diskBytesTotal;
            return String.format(Locale.ROOT, "%s %5.1f%% %sB text, %sB/s, %s tokens/s, %s rows",
                    ProgressLine.bar(fraction), 100 * fraction, ProgressLine.si(p.textBytesRead.get()),
                    ProgressLine.si(p.textBytesRead.get() / s), ProgressLine.si(p.tokens.get() / s), ProgressLine.si(p.rows.get()));
        })) {
            index = preparer.run();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "prepared %d rows of %d tokens (%d shard%s) in %s from %d file%s, %d documents, %d lines%n",
                index.rows(), index.maxLength(), index.shards().size(), index.shards().size() == 1 ? "" : "s", out,
                index.sources().size(), index.sources().size() == 1 ? "" : "s", index.documents(), index.lines());
        o.printf(Locale.ROOT, "tokens: %d in rows (%.1f%% of row capacity), %d in the corpus; %.1f s, %s tokens/s%n",
                index.tokens(), 100.0 * index.tokens() / (index.rows() * (double) index.maxLength()), index.corpusTokens(),
                secs, ProgressLine.si(index.corpusTokens() / secs));
        o.printf(Locale.ROOT, "invalid UTF-8 sequences replaced: %d; binary files skipped: %d%n",
                index.replacedInvalidUtf8(), index.skippedBinaryFiles().size());
        o.flush();
        return 0;
    }
}
