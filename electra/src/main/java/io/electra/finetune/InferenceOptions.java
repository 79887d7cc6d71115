package io.electra.finetune;

import io.electra.glue.GlueTask;

import java.nio.file.Path;

/**
 * What {@code electra evaluate} and {@code electra predict} are asked for.
 *
 * @param model     a fine-tuned folder
 * @param data      evaluate: a labelled TSV; predict: a test TSV or a task folder (every split's test file)
 * @param out       evaluate: optional per-row predictions TSV; predict: the folder for submission files
 * @param vocab     null for the folder's vocab.txt
 * @param maxLength null for the length the model was fine-tuned with
 */
public record InferenceOptions(GlueTask task, Path model, Path data, Path out, Path vocab, int batch, Integer maxLength,
                               String device, boolean skipBadRows) {

    public InferenceOptions {
        if (task == null || model == null || data == null) throw new IllegalArgumentException("task, model and data are required");
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (maxLength != null && maxLength < 3) throw new IllegalArgumentException("--max-length must be at least 3");
    }
}
