package io.electra.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * One encoded input with its special tokens: {@code [CLS] A [SEP]} or {@code [CLS] A [SEP] B [SEP]},
 * token type 0 for the first part and 1 for {@code B [SEP]}.
 */
public record Encoding(int[] ids, int[] typeIds, Vocab vocab) {

    /** The token strings, {@code ##} continuations included. */
    public List<String> tokens() {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) out.add(vocab.token(id));
        return out;
    }

    public int length() {
        return ids.length;
    }
}
