package io.electra.cli;

import io.electra.corpus.CorpusPreparer;
import io.electra.engine.Backend;
import io.electra.model.ReplacedTokenDetector;
import io.electra.device.Devices;
import io.electra.pretrain.ElectraTrainer;
import io.electra.pretrain.TrainingResult;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * The whole product in one command: find a vocab and a corpus, prepare a slice, pre-train the tiny
 * ELECTRA for a few minutes on the best device, then show replaced-token detection on sentences
 * with one word swapped.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Prepare a corpus slice, pre-train a tiny ELECTRA for a few minutes, and show replaced-token detection.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data", description = "folder with a BERT vocab.txt and a text corpus "
            + "(default: $ELECTRA_DATA, else ./data, else ../shared/data)")
    Path data;
    @Option(names = "--out", defaultValue = "runs/demo", description = "where shards, checkpoints and plots go (default ${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--minutes", defaultValue = "3", description = "pre-training time (default ${DEFAULT-VALUE})")
    double minutes;
    @Option(names = "--slice-mb", defaultValue = "3", description = "MB of corpus files to prepare (default ${DEFAULT-VALUE})")
    double sliceMb;
    @Option(names = "--device", defaultValue = "auto", description = "cpu, cuda or auto (default ${DEFAULT-VALUE})")
    String device;

    /** Sentences and the same sentence with one word swapped for a plausible but wrong one. */
    static final String[][] PAIRS = {
            {"she opened the door and walked slowly into the garden .", "she opened the door and walked slowly into the river ."},
            {"the old man sat by the fire and read his letters .", "the old man sat by the fire and ate his letters ."},
            {"it was a cold morning , and the snow lay deep upon the ground .", "it was a cold morning , and the snow lay deep upon the sky ."},
    };

    @Override
    public Integer call() throws Exception {
        Path root = findData();
        Path vocabFile = findVocab(root);
        List<Path> slice = corpusSlice(root, (long) (sliceMb * 1e6));
        System.err.println("data: " + root.toAbsolutePath() + "\n  vocab: " + vocabFile + "\n  corpus slice: " + slice);

        Path shards = out.resolve("shards");
        if (!Files.isRegularFile(shards.resolve("index.json"))) {
            new CorpusPreparer(new CorpusPreparer.Config(slice, vocabFile, shards, 128, 1, true,
                    Runtime.getRuntime().availableProcessors(), 4096, true), System.err::println).run();
        }

        Path run = out.resolve("pretrain");
        TrainingResult r = new ElectraTrainer(ElectraTrainer.options().preset("tiny").data(shards).output(run)
                .device(device).steps(100_000).warmupSteps(100).learningRate(1e-3).maxMinutes(minutes)
                .logEvery(20).checkpointEvery(500).validateEvery(200).resume(true).options(), null).run();

        Vocab vocab = Vocab.load(vocabFile);
        try (Backend b = Devices.select(device, System.err)) {
            ReplacedTokenDetector detector = new ReplacedTokenDetector(b, r.checkpoint(), WordPieceTokenizer.uncased(vocab));
            System.out.println("\nReplaced-token detection after " + r.step() + " steps (probability that each token was replaced):");
            for (String[] pair : PAIRS) {
                print(detector, pair[0], "original");
                print(detector, pair[1], "one word swapped");
            }
        }
        System.out.println("\nCompare the swapped word's probability with the original word's. A tiny model a few minutes in"
                + " has only begun to tell them apart; 'bin/electra demo --minutes 30' continues this run from its checkpoint.");
        System.out.println("\ncheckpoints (HuggingFace folders): " + run.resolve("checkpoints").toAbsolutePath());
        System.out.println("curves: " + run.resolve("losses.png").toAbsolutePath() + ", " + run.resolve("detection.png").toAbsolutePath());
        System.out.println("metrics: " + run.resolve("metrics.jsonl").toAbsolutePath());
        return 0;
    }

    private static void print(ReplacedTokenDetector d, String text, String label) {
        StringBuilder sb = new StringBuilder("  [" + label + "] ");
        for (ReplacedTokenDetector.Scored s : d.score(text)) {
            if (s.token().equals("[CLS]") || s.token().equals("[SEP]")) continue;
            sb.append(s.token()).append(String.format("(%.2f) ", s.replacedProbability()));
        }
        System.out.println(sb.toString().stripTrailing());
    }

    private Path findData() throws IOException {
        List<Path> tried = new ArrayList<>();
        if (data != null) return requireData(data);
        String env = System.getenv("ELECTRA_DATA");
        for (Path p : env != null ? List.of(Path.of(env), Path.of("data"), Path.of("../shared/data"))
                : List.of(Path.of("data"), Path.of("../shared/data"))) {
            tried.add(p);
            if (Files.isDirectory(p)) return requireData(p);
        }
        throw new IOException("no data found (tried " + tried + "). The demo needs a folder with a BERT vocab.txt "
                + "(e.g. bert-base-uncased's) and a text corpus (.txt or .txt.gz files, one paragraph per line, "
                + "blank lines between documents); pass it with --data DIR or $ELECTRA_DATA");
    }

    private static Path requireData(Path p) throws IOException {
        if (!Files.isDirectory(p)) throw new IOException("--data " + p + " is not a folder");
        return p;
    }

    private static Path findVocab(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root, 3)) {
            List<Path> vocabs = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return n.equals("vocab.txt") || (n.endsWith("vocab.txt") && n.contains("uncased"));
            }).sorted().toList();
            if (vocabs.isEmpty()) throw new IOException(root + " has no vocab.txt (a BERT uncased vocabulary is needed)");
            return vocabs.get(0);
        }
    }

    /** The smallest corpus files first, until the slice holds {@code bytes}. */
    private static List<Path> corpusSlice(Path root, long bytes) throws IOException {
        Path corpus = Files.isDirectory(root.resolve("corpus")) ? root.resolve("corpus") : root;
        List<Path> files;
        try (Stream<Path> s = Files.walk(corpus, 3)) {
            files = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return (n.endsWith(".txt") || n.endsWith(".txt.gz") || n.endsWith(".raw")) && !n.contains("vocab");
            }).sorted(Comparator.comparingLong(DemoCommand::size).thenComparing(Path::toString)).toList();
        }
        if (files.isEmpty()) throw new IOException(corpus + " has no corpus files (.txt, .txt.gz)");
        List<Path> slice = new ArrayList<>();
        long total = 0;
        for (Path f : files) {
            if (total >= bytes) break;
            slice.add(f);
            total += size(f);
        }
        return slice;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }
}
