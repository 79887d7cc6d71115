package io.electra.finetune;

import io.electra.glue.GlueExample;
import io.electra.tokenizer.Encoding;
import io.electra.tokenizer.SpecialTokens;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;

import java.util.List;

/**
 * Tokenizes GLUE rows as HuggingFace's tokenizer does with {@code truncation=True}: a pair is cut
 * to the max length longest-first, one token at a time from the longer sentence.
 */
public final class ExampleEncoder {
    private final WordPieceTokenizer tokenizer;
    private final int maxLength;

    public ExampleEncoder(WordPieceTokenizer tokenizer, int maxLength) {
        if (maxLength < 3) throw new IllegalArgumentException("max length " + maxLength + " < 3");
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    public ExampleEncoder(Vocab vocab, TokenizerConfig settings, int maxLength) {
        this(settings.lowerCase() ? WordPieceTokenizer.uncased(vocab)
                : new WordPieceTokenizer(vocab, false, SpecialTokens.ANYWHERE), maxLength);
    }

    public int maxLength() {
        return maxLength;
    }

    /** {@code [CLS] A [SEP] (B [SEP])} of one row, cut to the max length, with its label or score. */
    public EncodedExample encode(GlueExample e) {
        Encoding enc = tokenizer.encode(e.textA(), e.textB(), maxLength);
        return new EncodedExample(enc.ids(), enc.typeIds(), e.labelIndex(), e.score());
    }

    /** {@link #encode} of every row, in order. */
    public List<EncodedExample> encodeAll(List<GlueExample> rows) {
        return rows.stream().map(this::encode).toList();
    }
}
