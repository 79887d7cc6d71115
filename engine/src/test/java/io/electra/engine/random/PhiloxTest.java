package io.electra.engine.random;

import io.electra.engine.RngKey;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PhiloxTest {

    /**
     * The "philox4x32 10" lines of Random123's kat_vectors (Salmon et al.): counter[4] key[2] ->
     * output[4].
     */
    @Test
    void blockMatchesRandom123KnownAnswers() {
        int[][][] cases = {
                {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
                {{-1, -1, -1, -1}, {-1, -1}, {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
                {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
                        {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
        };
        for (int[][] c : cases) {
            int[] out = new int[4];
            Philox.block(c[0][0], c[0][1], c[0][2], c[0][3], c[1][0], c[1][1], out);
            assertArrayEquals(c[2], out, () -> String.format("counter %08x %08x %08x %08x key %08x %08x",
                    c[0][0], c[0][1], c[0][2], c[0][3], c[1][0], c[1][1]));
        }
    }

    @Test
    void streamElementIsLaneOfBlockNamedByKey() {
        RngKey key = new RngKey(0x1234_5678_9abc_def0L, 77, RngKey.GUMBEL);
        long i = (5L << 32) * 4 + 4 * 9 + 2; // block index (5 << 32) + 9, lane 2
        int[] out = new int[4];
        Philox.block(9, 5, 77, RngKey.GUMBEL, 0x9abc_def0, 0x1234_5678, out);
        assertEquals(out[2], Philox.bits(key, i));
    }

    @Test
    void uniformsMatchBitsElementByElement() {
        RngKey key = new RngKey(42, 3, RngKey.DROPOUT_BASE + 1);
        float[] u = new float[11];
        Philox.uniforms(key, 6, u, u.length);
        for (int k = 0; k < u.length; k++) {
            assertEquals(Philox.uniform(Philox.bits(key, 6 + k)), u[k], "element " + (6 + k));
        }
    }
}
