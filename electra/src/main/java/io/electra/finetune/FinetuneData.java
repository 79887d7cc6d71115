package io.electra.finetune;

import io.electra.glue.GlueExample;
import io.electra.glue.GlueRows;
import io.electra.glue.GlueSplit;
import io.electra.glue.GlueTask;
import io.electra.glue.GlueTsvReader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A task folder's training rows (with MRPC's and STS-B's swapped copies) and its dev files, read
 * and tokenized. The first dev set is the one that picks the best epoch (MNLI: matched).
 */
public record FinetuneData(List<EncodedExample> train, int trainFileRows, List<DevSet> dev) {

    public static FinetuneData load(GlueTask task, Path folder, boolean skipBadRows, int maxTrainExamples,
                                    ExampleEncoder encoder, PrintStream log) throws IOException {
        if (!Files.isDirectory(folder)) throw new IOException("--data " + folder + " is not a folder");
        GlueTsvReader reader = new GlueTsvReader(skipBadRows);
        GlueRows trainRows = reader.readLabelled(task, require(folder.resolve(task.trainFile()), task));
        report(trainRows, log);
        List<GlueExample> rows = trainRows.examples();
        if (maxTrainExamples > 0 && maxTrainExamples < rows.size()) rows = rows.subList(0, maxTrainExamples);
        if (rows.isEmpty()) throw new IOException(trainRows.file() + ": no training rows");
        List<EncodedExample> train = encoder.encodeAll(task.trainingExamples(rows));
        List<DevSet> dev = new ArrayList<>();
        for (GlueSplit split : task.splits()) {
            GlueRows devRows = reader.readLabelled(task, require(folder.resolve(split.devFile()), task));
            report(devRows, log);
            if (devRows.size() == 0) throw new IOException(devRows.file() + ": no rows");
            dev.add(new DevSet(split, devRows, encoder.encodeAll(devRows.examples())));
        }
        log.printf("%s: %d training examples from %d rows%s; dev %s%n", task.cliName(), train.size(), rows.size(),
                task.trainsOnSwappedPairs() ? " (each also with its sentences swapped)" : "",
                dev.stream().map(d -> d.split().name() + " " + d.encoded().size()).toList());
        return new FinetuneData(train, rows.size(), List.copyOf(dev));
    }

    private static Path require(Path file, GlueTask task) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("missing " + file + " (a GLUE " + task.dirName() + " folder has " + task.trainFile()
                    + " and " + task.splits().stream().map(GlueSplit::devFile).toList() + ")");
        }
        return file;
    }

    static void report(GlueRows rows, PrintStream log) {
        if (rows.skipped() > 0) {
            log.printf("%s: skipped %d malformed row(s), lines %s%n", rows.file(), rows.skipped(),
                    rows.skippedLines().size() > 20 ? rows.skippedLines().subList(0, 20) + "..." : rows.skippedLines());
        }
    }
}
