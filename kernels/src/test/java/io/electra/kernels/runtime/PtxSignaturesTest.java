package io.electra.kernels.runtime;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PTX parameter lists every launch is checked against: read from every committed PTX file,
 * held against the extern "C" declarations of the .cu sources (an independent reading of the same
 * kernels), and on hand-written PTX for the forms nvcc has not produced here yet.
 */
class PtxSignaturesTest {
    private static final Path CUDA = Path.of("src/main/cuda");
    /** A plain extern "C" entry point of a .cu file (macro-generated ones contain '##' and do not match). */
    private static final Pattern CU_ENTRY = Pattern.compile(
            "extern \"C\" __global__ void (?:__launch_bounds__\\([^)]*\\)\\s*)?([a-z][a-z0-9_]*)\\(([^)]*)\\)");

    @Test
    void everyEntryOfEveryCommittedPtxFileGetsASignatureOfPassableTypes() {
        int entries = 0;
        for (Family f : Family.values()) {
            String ptx = new String(f.ptx(), StandardCharsets.US_ASCII);
            Map<String, KernelSignature> parsed = PtxSignatures.parse(ptx, f.fileName());
            int declared = ptx.split("\\.entry ", -1).length - 1;
            assertEquals(declared, parsed.size(), f.fileName() + ": entries parsed vs '.entry' occurrences");
            for (KernelSignature s : parsed.values()) {
                assertTrue(s.count() > 0, s.entry() + " has no parameters");
                for (int i = 0; i < s.count(); i++) {
                    assertTrue(s.classOf(i) != KernelSignature.OTHER,
                            s.entry() + " parameter " + i + " is " + s.type(i) + ", which KernelArgs cannot pass");
                }
            }
            entries += parsed.size();
        }
        assertTrue(entries >= 60, "only " + entries + " entry points in the committed PTX");
    }

    @Test
    void signaturesAgreeWithTheCudaSourceDeclarations() throws IOException {
        Map<String, KernelSignature> ptx = allSignatures();
        Map<String, String> fromSources = new TreeMap<>();
        try (Stream<Path> files = Files.list(CUDA)) {
            for (Path cu : files.filter(p -> p.toString().endsWith(".cu")).sorted().toList()) {
                Matcher m = CU_ENTRY.matcher(Files.readString(cu));
                while (m.find()) fromSources.put(m.group(1), classesOfC(cu.getFileName() + " " + m.group(1), m.group(2)));
            }
        }
        assertTrue(fromSources.size() >= 50, "only " + fromSources.size() + " plain extern \"C\" entries found in " + CUDA);
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, String> e : fromSources.entrySet()) {
            KernelSignature s = ptx.get(e.getKey());
            String got = s == null ? "(no such PTX entry)" : classes(s);
            if (!got.equals(e.getValue())) wrong.add(e.getKey() + ": source " + e.getValue() + ", PTX " + got);
        }
        assertTrue(wrong.isEmpty(), "P = pointer or 64-bit integer, i = 32-bit integer, f = float: " + wrong);
    }

    @Test
    void knownKernelsHaveTheirParameterLists() {
        Map<String, KernelSignature> ptx = allSignatures();
        // dropout.cu: out, in, p, scale, n, then the stream arguments k0, k1, step, purpose, step_offset
        KernelSignature dropout = ptx.get("dropout_forward");
        assertEquals("PPffPiiiiP", classes(dropout));
        assertEquals(".u64", dropout.type(9));
        // flash_attention.cu (FLASH_ENTRIES): out, lse, q, k, v, keyMask, H, T, the two heads layouts (batch
        // stride i64, head and row strides), [accumulate,] scale, p, keepScale, stream arguments
        for (String type : new String[] {"f32", "bf16"}) {
            for (int d : new int[] {16, 32, 64}) {
                assertEquals("PPPPPPiiPiiPiifffiiiiP", classes(ptx.get("flash_attention_forward_" + type + "_d" + d)));
                assertEquals("PPPPPPPPiiPiiPiiifffiiiiP", classes(ptx.get("flash_attention_backward_dq_" + type + "_d" + d)));
                assertEquals("PPPPPPPPPiiPiiPiiifffiiiiP", classes(ptx.get("flash_attention_backward_dkdv_" + type + "_d" + d)));
            }
            // delta, dOut, out, H, T, rows, D, out's layout
            assertEquals("PPPiiPiPii", classes(ptx.get("flash_attention_backward_prep_" + type)));
        }
        // gemm_tc.cu (GEMM_TC_ENTRY): C, A, B, M, N, K, three batch strides, alpha, accumulate, bf16Flags, epilogue, bias, aux,
        // partials
        ptx.keySet().stream().filter(n -> n.startsWith("gemm_tc_forward_"))
                .forEach(n -> assertEquals("PPPiiiPPPfiiiPPP", classes(ptx.get(n)), n));
    }

    @Test
    void readsAlignedStructsArraysPointerQualifiersAndEmptyLists() {
        String ptx = """
                .version 9.0
                .target sm_80
                .address_size 64

                .visible .entry takes_struct(
                \t.param .align 8 .b8 takes_struct_param_0[16],
                \t.param .u64 .ptr .global .align 4 takes_struct_param_1,
                \t.param .s64 takes_struct_param_2,
                \t.param .b32 takes_struct_param_3,
                \t.param .f64 takes_struct_param_4
                )
                {
                \tret;
                }
                .entry no_params()
                {
                \tret;
                }
                .visible .entry _Z7mangledPfi(
                \t.param .u64 _Z7mangledPfi_param_0,
                \t.param .u32 _Z7mangledPfi_param_1
                )
                {
                \tret;
                }
                """;
        Map<String, KernelSignature> parsed = PtxSignatures.parse(ptx, "test.ptx");
        assertEquals(List.of("takes_struct", "no_params", "_Z7mangledPfi"), List.copyOf(parsed.keySet()));
        KernelSignature s = parsed.get("takes_struct");
        assertEquals(5, s.count());
        assertEquals(KernelSignature.OTHER, s.classOf(0));
        assertEquals(".align 8 .b8 takes_struct_param_0[16]", s.type(0));
        assertEquals(KernelSignature.WIDE_INT, s.classOf(1));
        assertEquals(KernelSignature.WIDE_INT, s.classOf(2));
        assertEquals(KernelSignature.INT, s.classOf(3));
        assertEquals(KernelSignature.OTHER, s.classOf(4));
        assertEquals(0, parsed.get("no_params").count());
        assertEquals("Pi", classes(parsed.get("_Z7mangledPfi")));
    }

    static Map<String, KernelSignature> allSignatures() {
        Map<String, KernelSignature> all = new TreeMap<>();
        for (Family f : Family.values()) {
            all.putAll(PtxSignatures.parse(new String(f.ptx(), StandardCharsets.US_ASCII), f.fileName()));
        }
        return all;
    }

    /** "PPffP...": P an 8-byte integer (pointers included), i a 4-byte integer, f an f32, ? anything else. */
    static String classes(KernelSignature s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.count(); i++) {
            b.append(switch (s.classOf(i)) {
                case KernelSignature.WIDE_INT -> 'P';
                case KernelSignature.INT -> 'i';
                case KernelSignature.F32 -> 'f';
                default -> '?';
            });
        }
        return b.toString();
    }

    /** The same letters from a C parameter list, by the C types the kernels use. */
    private static String classesOfC(String where, String list) {
        StringBuilder b = new StringBuilder();
        for (String param : list.split(",")) {
            String p = param.strip().replaceAll("\\s+", " ");
            if (p.isEmpty()) continue;
            String type = p.replaceAll("\\w+$", "").replace("const ", "").replace("__restrict__", "").strip();  // drop the name
            if (type.contains("*")) b.append('P');
            else if (type.matches("i64|int64_t|uint64_t|long long|unsigned long long|size_t")) b.append('P');
            else if (type.matches("int|unsigned|unsigned int|uint32_t|int32_t")) b.append('i');
            else if (type.equals("float")) b.append('f');
            else throw new AssertionError(where + ": parameter '" + p + "' has a C type this test does not map; add it");
        }
        return b.toString();
    }
}
