/**
 * The GLUE benchmark without the model: what each task is ({@link io.electra.glue.GlueTask}),
 * how its official TSV files are laid out and read ({@link io.electra.glue.GlueTsvReader}), how
 * GLUE scores predictions ({@link io.electra.glue.Metrics}), and how predictions on the unlabelled
 * test sets are written for submission ({@link io.electra.glue.PredictionWriter}).
 *
 * <p>The fine-tuning trainer builds on this package; nothing here knows about tensors or tokens.
 */
package io.electra.glue;
