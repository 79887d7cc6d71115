package io.electra.bench.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.tokenizer.Vocab;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a HuggingFace {@code tokenizer.json} for BERT (uncased or cased) from a vocab.txt, so the
 * Rust tokenizer runs on exactly our vocabulary with BERT's normaliser, pre-tokenizer and WordPiece.
 */
final class HfTokenizerJson {
    private HfTokenizerJson() {
    }

    static Path write(Vocab vocab, boolean lowerCase, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : new String[]{Vocab.PAD, Vocab.UNK, Vocab.CLS, Vocab.SEP, Vocab.MASK}) {
            added.addObject().put("id", vocab.id(s)).put("content", s).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true)
                .put("handle_chinese_chars", true).putNull("strip_accents").put("lowercase", lowerCase);
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode post = root.putObject("post_processor").put("type", "BertProcessing");
        post.putArray("sep").add(Vocab.SEP).add(vocab.sepId());
        post.putArray("cls").add(Vocab.CLS).add(vocab.clsId());
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        ObjectNode model = root.putObject("model").put("type", "WordPiece").put("unk_token", Vocab.UNK)
                .put("continuing_subword_prefix", "##").put("max_input_chars_per_word", 100);
        ObjectNode v = model.putObject("vocab");
        for (int id = 0; id < vocab.size(); id++) v.put(vocab.token(id), id);
        json.writeValue(file.toFile(), root);
        return file;
    }
}
