package io.electra.pretrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a run stands, written last into every checkpoint ({@code trainer_state.json}): the step, the
 * data cursor, and what the run was built from, so a resume can refuse a mismatched one. The
 * precision ("fp32"/"bf16"; null in checkpoints from before it was recorded) is informative only: the
 * weights are F32 masters in both, so either precision may resume either.
 */
public record TrainerState(long step, int epoch, int position, long seed, String preset, String objective,
                           String vocabHash, int batch, int accumulate, int maxSeqLength, long totalSteps,
                           String precision) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public void write(Path dir) throws IOException {
        Path tmp = dir.resolve(CheckpointStore.MARKER + ".tmp");
        Files.writeString(tmp, JSON.writeValueAsString(this));
        Files.move(tmp, dir.resolve(CheckpointStore.MARKER));
    }

    public static TrainerState read(Path dir) throws IOException {
        Path f = dir.resolve(CheckpointStore.MARKER);
        try {
            return JSON.readValue(f.toFile(), TrainerState.class);
        } catch (IOException e) {
            throw new IOException(f + ": unreadable trainer state: " + e.getMessage(), e);
        }
    }
}
