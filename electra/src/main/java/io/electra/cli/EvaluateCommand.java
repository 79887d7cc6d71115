package io.electra.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.finetune.Evaluation;
import io.electra.finetune.InferenceOptions;
import io.electra.glue.GlueTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code electra evaluate}: prints a fine-tuned model's GLUE metrics on a labelled TSV as JSON. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Score a fine-tuned model on a labelled GLUE TSV (prints the metrics as JSON).")
public final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--task", required = true, converter = FinetuneCommand.TaskConverter.class,
            description = "cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte or wnli")
    GlueTask task;

    @Option(names = "--model", required = true, description = "fine-tuned folder (e.g. <finetune --out>/best)")
    Path model;

    @Option(names = "--data", required = true, description = "labelled TSV in the task's GLUE layout (e.g. dev.tsv)")
    Path data;

    @Option(names = "--predictions", description = "also write line, prediction and gold of every row to this TSV")
    Path predictions;

    @Option(names = "--vocab", description = "vocab.txt (default: the model folder's)")
    Path vocab;

    @Option(names = "--batch", defaultValue = "64", description = "rows per forward pass (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--max-length", description = "tokens per example (default: the length the model was fine-tuned with)")
    Integer maxLength;

    @Option(names = "--device", defaultValue = "auto", description = "cpu, cuda or auto (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--skip-bad-rows", description = "skip malformed TSV rows (reported) instead of failing")
    boolean skipBadRows;

    @Override
    public Integer call() throws Exception {
        InferenceOptions o = new InferenceOptions(task, model, data, predictions, vocab, batch, maxLength, device, skipBadRows);
        Evaluation.Result r = Evaluation.run(o, System.err);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("task", task.cliName());
        report.put("data", data.toString());
        report.put("rows", r.rows().size());
        report.put("skipped", r.rows().skipped());
        report.put("metrics", r.metrics());
        System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report));
        return 0;
    }
}
