package io.electra.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The optional cuBLAS provider's detection: a provider or a one-line reason, never an exception. */
class CublasGemmTest {

    @Test
    void openReturnsTheProviderOrOneLineSayingWhyNot() {
        CublasGemm.Detection d = assertDoesNotThrow(CublasGemm::open);
        if (d.isAvailable()) {
            try (CublasGemm gemm = d.gemm().orElseThrow()) {
                assertTrue(gemm.version().startsWith("cuBLAS 12."), gemm.version());
            }
            return;
        }
        System.out.println("cuBLAS provider unavailable: " + d.reason());
        assertFalse(d.reason().isBlank(), "an unavailable provider must say why");
        assertFalse(d.reason().contains("\n"), "the reason must be one line: " + d.reason());
        assertTrue(d.reason().startsWith("JCublas could not load") || d.reason().startsWith("no CUDA device")
                || d.reason().startsWith("cuBLAS could not start"), d.reason());
    }

    @Test
    void briefKeepsTheLineThatNamesTheMissingLibrary() {
        // JCuda's LibUtils joins every attempt into one multi-line message; the useful part names libcublas.
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("Error while loading native library \"JCublas2-12.6.0-linux-x86_64\"\n"
                + "Operating system name: Linux\nStack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12: cannot open shared "
                + "object file: No such file or directory\n\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)");
        assertEquals("libcublas.so.12: cannot open shared object file: No such file or directory", CublasGemm.brief(e));
        assertEquals("IllegalStateException: first line", CublasGemm.brief(new IllegalStateException("first line\nsecond")));
    }
}
