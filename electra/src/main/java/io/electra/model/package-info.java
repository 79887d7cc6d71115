/**
 * The ELECTRA networks with HuggingFace's module names, so that parameter paths are state-dict keys:
 * {@link io.electra.model.ElectraGenerator} ({@code ElectraForMaskedLM}),
 * {@link io.electra.model.ElectraDiscriminator} ({@code ElectraForPreTraining}) and
 * {@link io.electra.model.ElectraClassifier} ({@code ElectraForSequenceClassification}), built from
 * {@link io.electra.model.ElectraBody} (embeddings, optional {@code embeddings_project}, post-LN layers).
 * {@link io.electra.model.ElectraPretraining} joins generator and discriminator with shared embeddings
 * for replaced-token detection; {@link io.electra.model.Masking} is the official dynamic masking;
 * {@link io.electra.model.HfFolder} reads and writes HF folders. Parity with HF is tested on the
 * fixtures in {@code ../shared/fixtures/hf-electra}.
 */
package io.electra.model;
