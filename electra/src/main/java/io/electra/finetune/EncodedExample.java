package io.electra.finetune;

/**
 * One tokenized GLUE row: {@code [CLS] A [SEP] (B [SEP])} with its segment ids, and its target.
 *
 * @param ids    token ids, at most the run's max length
 * @param types  segment ids, 0 for {@code [CLS] A [SEP]}, 1 for {@code B [SEP]}
 * @param label  class index, or -1 for regression and unlabelled rows
 * @param score  STS-B's similarity, NaN otherwise
 */
public record EncodedExample(int[] ids, int[] types, int label, float score) {

    public int length() {
        return ids.length;
    }
}
