package io.electra.kernels;

import io.electra.kernels.gpu.Gpu;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.PtxVersion;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Discovery works on every machine: a backend where a device answers, a reason everywhere else. */
class CudaDiscoveryTest {

    @Test
    void tryCreateReturnsABackendOrAReasonAndNeverThrows() {
        CudaProbe probe = Gpu.probe();
        if (probe.isAvailable()) {
            assertFalse(probe.backend().orElseThrow().name().isBlank());
        } else {
            assertFalse(probe.reason().isBlank(), "an unavailable probe must say why");
            System.out.println("CUDA backend unavailable here, as expected without a device: " + probe.reason());
        }
    }

    @Test
    void committedPtxIsIsa90AndNeedsADriverForCuda13() {
        // nvcc 13.0 emits PTX ISA 9.0, which drivers of the 580 series (CUDA 13.0) and newer accept.
        assertEquals(13000, CudaRuntime.requiredDriverVersion());
    }

    @Test
    void isaToDriverTableFollowsThePtxReleaseNotes() {
        assertEquals(11080, PtxVersion.requiredDriver(7, 8));
        assertEquals(12000, PtxVersion.requiredDriver(8, 0));
        assertEquals(12050, PtxVersion.requiredDriver(8, 5));
        assertEquals(12070, PtxVersion.requiredDriver(8, 6)); // there was no PTX ISA for CUDA 12.6
        assertEquals(12090, PtxVersion.requiredDriver(8, 8));
        assertEquals(13000, PtxVersion.requiredDriver(9, 0));
        assertThrows(IllegalStateException.class, () -> PtxVersion.requiredDriver(9, 9));
        assertEquals("13.0", PtxVersion.cudaVersion(13000));
    }

    @Test
    void isaIsReadFromTheVersionLine() {
        byte[] ptx = "//\n// Generated\n//\n\n.version 8.7\n.target sm_80\n".getBytes();
        int[] isa = PtxVersion.isa(ptx, "test.ptx");
        assertEquals(8, isa[0]);
        assertEquals(7, isa[1]);
        assertThrows(IllegalStateException.class, () -> PtxVersion.isa(".target sm_80\n".getBytes(), "bad.ptx"));
    }
}
