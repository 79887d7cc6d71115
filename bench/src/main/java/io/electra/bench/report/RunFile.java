package io.electra.bench.report;

import java.util.List;
import java.util.Map;

/**
 * What one benchmark process writes: where it ran ({@code environment}: versions, hardware, BLAS
 * check, ...) and its results.
 */
public record RunFile(Map<String, Object> environment, List<StepResult> results) {
}
