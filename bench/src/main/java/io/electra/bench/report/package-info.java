/**
 * Benchmark results and reports: the JSON both our benchmark and the PyTorch reference write
 * ({@link io.electra.bench.report.StepResult}), aggregation over alternating rounds, the headline
 * ratios, and the Markdown page with its PNG charts ({@link io.electra.bench.report.ReportWriter}).
 */
package io.electra.bench.report;
