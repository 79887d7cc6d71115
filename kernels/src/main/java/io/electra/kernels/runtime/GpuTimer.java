package io.electra.kernels.runtime;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

/** Times work on the compute stream with a pair of CUDA events (device time, not host time). */
public final class GpuTimer implements AutoCloseable {
    private final CUstream stream;
    private final CUevent start = new CUevent(), stop = new CUevent();
    private final float[] millis = new float[1];

    GpuTimer(CUstream stream) {
        this.stream = stream;
        cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        cuEventCreate(stop, CUevent_flags.CU_EVENT_DEFAULT);
    }

    public void start() {
        cuEventRecord(start, stream);
    }

    /** Records the stop event, waits for it, and returns the device time since {@link #start} in ms. */
    public float stopMillis() {
        cuEventRecord(stop, stream);
        cuEventSynchronize(stop);
        cuEventElapsedTime(millis, start, stop);
        return millis[0];
    }

    @Override
    public void close() {
        cuEventDestroy(start);
        cuEventDestroy(stop);
    }
}
