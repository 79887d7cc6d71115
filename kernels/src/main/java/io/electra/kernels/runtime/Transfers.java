package io.electra.kernels.runtime;

import jcuda.Pointer;
import jcuda.driver.CUstream;

import java.nio.ByteBuffer;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * Host <-> device copies through the pinned staging buffer, in pieces of at most its capacity.
 * Each piece waits for its copy before the staging buffer is refilled, so a transfer returns
 * with the host array free to reuse (the Backend's upload/download are synchronous).
 */
public final class Transfers {
    private final CUstream stream;
    private final PinnedStaging staging;

    Transfers(CUstream stream, PinnedStaging staging) {
        this.stream = stream;
        this.staging = staging;
    }

    public void upload(DeviceBlock dst, long byteOffset, float[] src) {
        int elements = staging.capacityFor(src.length, 4);
        for (int done = 0; done < src.length; done += elements) {
            int n = Math.min(elements, src.length - done);
            Pointer host = staging.pointer((long) n * 4);
            staging.buffer().asFloatBuffer().put(src, done, n);
            copyIn(dst, byteOffset + done * 4L, host, n * 4L);
        }
    }

    public void upload(DeviceBlock dst, long byteOffset, int[] src) {
        int elements = staging.capacityFor(src.length, 4);
        for (int done = 0; done < src.length; done += elements) {
            int n = Math.min(elements, src.length - done);
            Pointer host = staging.pointer((long) n * 4);
            staging.buffer().asIntBuffer().put(src, done, n);
            copyIn(dst, byteOffset + done * 4L, host, n * 4L);
        }
    }

    public void upload(DeviceBlock dst, long byteOffset, short[] src) {
        int elements = staging.capacityFor(src.length, 2);
        for (int done = 0; done < src.length; done += elements) {
            int n = Math.min(elements, src.length - done);
            Pointer host = staging.pointer((long) n * 2);
            staging.buffer().asShortBuffer().put(src, done, n);
            copyIn(dst, byteOffset + done * 2L, host, n * 2L);
        }
    }

    public void download(DeviceBlock src, long byteOffset, float[] dst) {
        int elements = staging.capacityFor(dst.length, 4);
        for (int done = 0; done < dst.length; done += elements) {
            int n = Math.min(elements, dst.length - done);
            copyOut(src, byteOffset + done * 4L, n * 4L).asFloatBuffer().get(dst, done, n);
        }
    }

    public void download(DeviceBlock src, long byteOffset, int[] dst) {
        int elements = staging.capacityFor(dst.length, 4);
        for (int done = 0; done < dst.length; done += elements) {
            int n = Math.min(elements, dst.length - done);
            copyOut(src, byteOffset + done * 4L, n * 4L).asIntBuffer().get(dst, done, n);
        }
    }

    public void download(DeviceBlock src, long byteOffset, short[] dst) {
        int elements = staging.capacityFor(dst.length, 2);
        for (int done = 0; done < dst.length; done += elements) {
            int n = Math.min(elements, dst.length - done);
            copyOut(src, byteOffset + done * 2L, n * 2L).asShortBuffer().get(dst, done, n);
        }
    }

    private void copyIn(DeviceBlock dst, long byteOffset, Pointer host, long bytes) {
        cuMemcpyHtoDAsync(dst.pointer(byteOffset), host, bytes, stream);
        cuStreamSynchronize(stream);
    }

    private ByteBuffer copyOut(DeviceBlock src, long byteOffset, long bytes) {
        Pointer host = staging.pointer(bytes);
        cuMemcpyDtoHAsync(host, src.pointer(byteOffset), bytes, stream);
        cuStreamSynchronize(stream);
        return staging.buffer();
    }
}
