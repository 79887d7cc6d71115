/**
 * Training-step benchmarks: one pre-training step of ELECTRA or of the BERT masked-LM baseline built
 * from the model pieces ({@link io.electra.bench.step.StepHarness}), timed end to end by
 * {@link io.electra.bench.step.StepBenchmark}, with its analytic FLOP count
 * ({@link io.electra.bench.step.StepFlops}); and the JMH benchmark of the step's host-side masking.
 */
package io.electra.bench.step;
