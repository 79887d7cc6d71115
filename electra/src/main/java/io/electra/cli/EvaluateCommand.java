package io.electra.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.finetune.Evaluation;
import io.electra.finetune.InferenceOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code electra evaluate}: prints a fine-tuned model's GLUE metrics on a labelled TSV as JSON. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Score a fine-tuned model on a labelled GLUE TSV (prints the metrics as JSON).")
public final class EvaluateCommand implements Callable<Integer> {
    @Mixin
    InferenceFlags flags;

    @Option(names = "--data", required = true, description = "labelled TSV in the task's GLUE layout (e.g. dev.tsv)")
    Path data;

    @Option(names = "--predictions", description = "also write line, prediction and gold of every row to this TSV")
    Path predictions;

    @Override
    public Integer call() throws Exception {
        InferenceOptions o = flags.options(data, predictions);
        Evaluation.Result r = Evaluation.run(o, System.err);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("task", flags.task.cliName());
        report.put("data", data.toString());
        report.put("rows", r.rows().size());
        report.put("skipped", r.rows().skipped());
        report.put("metrics", r.metrics());
        System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report));
        return 0;
    }
}
