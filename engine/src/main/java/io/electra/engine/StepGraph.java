package io.electra.engine;

/**
 * A step of backend calls recorded once by {@link Backend#captureStep} and replayed as a whole: the
 * same kernels, the same arguments and tensor addresses, reading whatever the input tensors hold
 * at replay time. A CUDA graph on the GPU; a recorded call list in the CPU tests' emulation.
 */
public interface StepGraph extends AutoCloseable {

    /** Queues one run of the recorded step; like a kernel launch, it returns without waiting. */
    void replay();

    /** Releases the recording; the graph cannot be replayed afterwards. */
    @Override
    void close();
}
