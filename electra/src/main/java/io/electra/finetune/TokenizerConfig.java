package io.electra.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The two fields of HuggingFace's {@code tokenizer_config.json} that change what the model sees:
 * {@code do_lower_case} (absent means uncased, as every ELECTRA release is) and
 * {@code model_max_length}, which HF's {@code truncation=True} cuts to and which a fine-tuned folder
 * records as the length it was trained with.
 */
public record TokenizerConfig(boolean lowerCase, Integer modelMaxLength) {
    public static final String FILE = "tokenizer_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The folder's settings, or uncased with no length when it has no such file. */
    public static TokenizerConfig read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return new TokenizerConfig(true, null);
        JsonNode n;
        try {
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode lower = n.get("do_lower_case"), max = n.get("model_max_length");
        if (lower != null && !lower.isBoolean()) throw new IOException(f + ": do_lower_case must be true or false");
        // HF writes a huge sentinel (1e30) when no length is known
        Integer length = max != null && max.canConvertToInt() && max.asInt() > 0 ? max.asInt() : null;
        return new TokenizerConfig(lower == null || lower.asBoolean(), length);
    }

    void write(Path dir) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("tokenizer_class", "ElectraTokenizer");
        n.put("do_lower_case", lowerCase);
        if (modelMaxLength != null) n.put("model_max_length", modelMaxLength);
        Files.writeString(dir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
    }
}
