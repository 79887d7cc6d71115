package io.electra.bench.report;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One timed configuration, as both our {@code StepBenchmark} and {@code bench/scripts/torch_step.py}
 * write it (same field names; the report reads both).
 *
 * @param tool            "electra-java" or "pytorch"
 * @param variant         how the step was run, e.g. "ours", "torch-eager-fp32-masked", "hf-compile-bf16-all"
 * @param device          "cpu" or "cuda"
 * @param objective       "electra" or "mlm"
 * @param generatorHead   "masked" (logits at the prediction slots) or "all" (every position, as HF does)
 * @param round           which alternation round produced it (the report takes the median over rounds)
 * @param stepMs          wall time of every timed step, milliseconds
 * @param medianMs        median of {@code stepMs}
 * @param medianCpuMs     median process CPU time per step (all threads), milliseconds: less sensitive than
 *                        wall time to other processes on a shared machine, but it counts spin-waiting
 * @param loadAverage     the machine's 1-minute load average when the configuration finished
 * @param parameterCount  trainable values, shared tensors once (checks both tools built the same model)
 * @param peakRssBytes    the process's peak resident set (Linux VmHWM / ru_maxrss), -1 when unknown
 * @param backendPeakBytes what the backend itself tracked (our MemoryStats peak; torch's CUDA max allocated)
 * @param jvmHeapPeakBytes peak of the JVM heap pools (ours only; the CPU backend's storage lives there)
 * @param command         the exact command line that produced it
 * @param profileMsPerStep ours with --profile: wall milliseconds per step in each backend method (CPU only)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StepResult(String tool, String variant, String device, String preset, String objective, int batch,
                         int seq, int threads, int round, String generatorHead, int warmupSteps, double[] stepMs,
                         double medianMs, double medianCpuMs, double loadAverage,
                         double sequencesPerSecond, double tokensPerSecond, long parameterCount,
                         long peakRssBytes, Long backendPeakBytes, Long jvmHeapPeakBytes, double firstLoss,
                         double lastLoss, String command, java.util.Map<String, Double> profileMsPerStep) {

    /** Results of one configuration from different rounds share this key. */
    public String key() {
        return tool + "|" + variant + "|" + device + "|" + preset + "|" + objective + "|" + batch + "|" + seq + "|" + threads;
    }
}
