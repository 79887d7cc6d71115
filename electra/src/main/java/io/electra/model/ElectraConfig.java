package io.electra.model;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One ELECTRA network's shape, with HuggingFace's {@code config.json} field names so that our
 * folders load in transformers and theirs load here. Fields we do not use are kept and written back.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class ElectraConfig {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @JsonProperty("architectures") public List<String> architectures;
    @JsonProperty("model_type") public String modelType = "electra";
    @JsonProperty("vocab_size") public int vocabSize = 30522;
    @JsonProperty("embedding_size") public int embeddingSize = 128;
    @JsonProperty("hidden_size") public int hiddenSize = 256;
    @JsonProperty("num_hidden_layers") public int numHiddenLayers = 12;
    @JsonProperty("num_attention_heads") public int numAttentionHeads = 4;
    @JsonProperty("intermediate_size") public int intermediateSize = 1024;
    @JsonProperty("hidden_act") public String hiddenAct = "gelu";
    @JsonProperty("hidden_dropout_prob") public double hiddenDropoutProb = 0.1;
    @JsonProperty("attention_probs_dropout_prob") public double attentionProbsDropoutProb = 0.1;
    @JsonProperty("max_position_embeddings") public int maxPositionEmbeddings = 512;
    @JsonProperty("type_vocab_size") public int typeVocabSize = 2;
    @JsonProperty("initializer_range") public double initializerRange = 0.02;
    @JsonProperty("layer_norm_eps") public double layerNormEps = 1e-12;
    @JsonProperty("pad_token_id") public int padTokenId = 0;
    @JsonProperty("position_embedding_type") public String positionEmbeddingType = "absolute";
    @JsonProperty("num_labels") public Integer numLabels;
    @JsonProperty("problem_type") public String problemType;
    @JsonProperty("id2label") public Map<String, String> id2label;
    @JsonProperty("label2id") public Map<String, Integer> label2id;

    private final Map<String, Object> other = new TreeMap<>();

    @JsonAnySetter
    void setOther(String key, Object value) {
        other.put(key, value);
    }

    @JsonAnyGetter
    Map<String, Object> other() {
        return other;
    }

    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    /** Reads {@code config.json}, checking what the model cannot run with. */
    public static ElectraConfig read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("no config.json at " + file);
        ElectraConfig c;
        try {
            c = JSON.readValue(file.toFile(), ElectraConfig.class);
        } catch (IOException e) {
            throw new IOException(file + ": not a valid ELECTRA config.json: " + e.getMessage(), e);
        }
        c.validate(file.toString());
        return c;
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(this) + "\n");
    }

    public ElectraConfig copy() {
        try {
            ElectraConfig c = JSON.readValue(JSON.writeValueAsString(this), ElectraConfig.class);
            return c;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A copy with {@code config.json} fields replaced, e.g. {@code hidden_dropout_prob=0}. An unknown
     * field or a value of the wrong type is an error naming the field.
     */
    public ElectraConfig withOverrides(Map<String, String> overrides) {
        if (overrides.isEmpty()) return copy();
        @SuppressWarnings("unchecked")
        Map<String, Object> tree = JSON.convertValue(this, Map.class);
        for (var e : overrides.entrySet()) {
            if (!tree.containsKey(e.getKey())) {
                throw new IllegalArgumentException("unknown config field '" + e.getKey() + "'; known: " + tree.keySet());
            }
            Object old = tree.get(e.getKey());
            Object value;
            try {
                value = old instanceof Integer ? Integer.valueOf(e.getValue())
                        : old instanceof Number ? Double.valueOf(e.getValue()) : e.getValue();
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("config field '" + e.getKey() + "' needs a number, got '" + e.getValue() + "'");
            }
            tree.put(e.getKey(), value);
        }
        ElectraConfig c = JSON.convertValue(tree, ElectraConfig.class);
        c.validate("overrides " + overrides);
        return c;
    }

    /** Throws IllegalArgumentException naming {@code source} and the field at fault. */
    public void validate(String source) {
        check(source, vocabSize > 0, "vocab_size must be positive");
        check(source, embeddingSize > 0, "embedding_size must be positive");
        check(source, hiddenSize > 0, "hidden_size must be positive");
        check(source, numHiddenLayers > 0, "num_hidden_layers must be positive");
        check(source, numAttentionHeads > 0 && hiddenSize % numAttentionHeads == 0,
                "hidden_size " + hiddenSize + " must be a multiple of num_attention_heads " + numAttentionHeads);
        check(source, intermediateSize > 0, "intermediate_size must be positive");
        check(source, maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
        check(source, typeVocabSize > 0, "type_vocab_size must be positive");
        check(source, "gelu".equals(hiddenAct), "hidden_act '" + hiddenAct + "' is not supported (only the exact-erf \"gelu\")");
        check(source, positionEmbeddingType == null || "absolute".equals(positionEmbeddingType),
                "position_embedding_type '" + positionEmbeddingType + "' is not supported (only \"absolute\")");
        check(source, hiddenDropoutProb >= 0 && hiddenDropoutProb < 1, "hidden_dropout_prob must be in [0, 1)");
        check(source, attentionProbsDropoutProb >= 0 && attentionProbsDropoutProb < 1,
                "attention_probs_dropout_prob must be in [0, 1)");
    }

    private static void check(String source, boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(source + ": " + message);
    }
}
