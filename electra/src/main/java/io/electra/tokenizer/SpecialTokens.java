package io.electra.tokenizer;

/**
 * How literal special tokens ({@code [CLS] [SEP] [PAD] [UNK] [MASK]}, case-sensitive) in raw text are
 * treated.
 */
public enum SpecialTokens {
    /**
     * Recognised anywhere, splitting the text around them ({@code "a[MASK]b"} gives {@code a [MASK] b}):
     * HuggingFace's {@code BertTokenizer.from_pretrained}, the default.
     */
    ANYWHERE,
    /**
     * Recognised only as a whole whitespace-separated word: the bare {@code BertTokenizer(vocab_file)}
     * constructor of transformers 4.28.
     */
    WHOLE_WORD,
    /**
     * Never recognised: {@code [MASK]} becomes {@code [ mask ]}, as in the original BERT/ELECTRA data
     * pipeline. Pre-training data uses this, so corpus text can never produce {@code [PAD]} (id 0) or
     * a real {@code [MASK]}.
     */
    NEVER
}
