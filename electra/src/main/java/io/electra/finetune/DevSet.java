package io.electra.finetune;

import io.electra.glue.GlueRows;
import io.electra.glue.GlueSplit;

import java.util.List;

/** One labelled evaluation file (MNLI has two) with its rows tokenized. */
public record DevSet(GlueSplit split, GlueRows rows, List<EncodedExample> encoded) {
}
