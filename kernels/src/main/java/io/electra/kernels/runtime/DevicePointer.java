package io.electra.kernels.runtime;

import jcuda.driver.CUdeviceptr;

/**
 * A device allocation's base pointer whose raw address Java can read, so kernel arguments are
 * written into the launch buffer as plain longs instead of as new Pointer objects per launch.
 */
final class DevicePointer extends CUdeviceptr {
    long address() {
        return getNativePointer();
    }
}
