/**
 * GLUE fine-tuning with ELECTRA's official recipe: a sequence classification (or, for STS-B,
 * regression) head on a pre-trained discriminator, trained with AdamW, layer-wise learning-rate decay
 * and linear warmup/decay, evaluated on dev after every epoch. The best epoch is kept as a HuggingFace
 * {@code ElectraForSequenceClassification} folder. The logic of {@code electra finetune},
 * {@code electra evaluate} and {@code electra predict} lives here; the picocli classes only parse.
 */
package io.electra.finetune;
