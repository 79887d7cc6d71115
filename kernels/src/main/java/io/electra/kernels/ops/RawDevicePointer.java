package io.electra.kernels.ops;

import jcuda.driver.CUdeviceptr;

/** A CUdeviceptr for a raw device address (for driver-API copies; kernels take raw longs). */
final class RawDevicePointer extends CUdeviceptr {
    private RawDevicePointer() {
    }

    static CUdeviceptr of(long address) {
        return new RawDevicePointer().withByteOffset(address);
    }
}
