package io.electra.corpus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The packing against a line-by-line transcription of ELECTRA's ExampleBuilder, with full lists. */
class ExampleBuilderTest {
    private static final int CLS = 101, SEP = 102;

    /** ELECTRA's algorithm as written in Python: whole sentences, slicing at the end, same draw order. */
    private static final class Original {
        final int max;
        final DoubleSupplier random;
        final List<List<Integer>> current = new ArrayList<>();
        int currentLength;
        int target;
        final List<int[]> rows = new ArrayList<>();

        Original(int max, DoubleSupplier random) {
            this.max = max;
            this.random = random;
            this.target = max;
        }

        void addLine(List<Integer> tokens, boolean blank) {
            if (blank && currentLength != 0) {
                create();
                return;
            }
            current.add(tokens);
            currentLength += tokens.size();
            if (currentLength >= target) create();
        }

        void create() {
            int firstTarget = random.getAsDouble() < 0.1 ? 100000 : (target - 3) / 2;
            List<Integer> first = new ArrayList<>(), second = new ArrayList<>();
            for (List<Integer> s : current) {
                if (first.isEmpty() || first.size() + s.size() < firstTarget
                        || (second.isEmpty() && first.size() < firstTarget && random.getAsDouble() < 0.5)) first.addAll(s);
                else second.addAll(s);
            }
            first = first.subList(0, Math.min(first.size(), max - 2));
            second = second.subList(0, Math.min(second.size(), Math.max(0, max - first.size() - 3)));
            current.clear();
            currentLength = 0;
            target = random.getAsDouble() < 0.05 ? 5 + (int) (random.getAsDouble() * (max - 4)) : max;
            int[] row = new int[max + 2];
            int p = 0;
            row[p++] = CLS;
            for (int x : first) row[p++] = x;
            row[p++] = SEP;
            int startB = p;
            for (int x : second) row[p++] = x;
            if (!second.isEmpty()) row[p++] = SEP;
            row[max] = p;                                   // length
            row[max + 1] = second.isEmpty() ? p : startB;   // start of B
            rows.add(row);
        }
    }

    private static DoubleSupplier replay(long seed) {
        Random r = new Random(seed);
        return r::nextDouble;
    }

    @Test
    void matchesTheOriginalAlgorithmIncludingHugeSentences() throws Exception {
        int max = 128;
        Random gen = new Random(7);
        List<List<Integer>> lines = new ArrayList<>();
        for (int i = 0; i < 20000; i++) {
            int kind = gen.nextInt(100);
            int len = kind < 8 ? 0 : kind < 90 ? 1 + gen.nextInt(60) : 60 + gen.nextInt(300);
            if (gen.nextInt(1000) < 2) len = 100_000 + gen.nextInt(5000); // beyond the single-segment target
            List<Integer> s = new ArrayList<>(len);
            for (int j = 0; j < len; j++) s.add(1000 + gen.nextInt(20000));
            lines.add(s);
        }
        Original original = new Original(max, replay(99));
        for (List<Integer> s : lines) original.addLine(s, s.isEmpty());
        original.addLine(List.of(), true);

        List<int[]> ours = new ArrayList<>();
        ExampleBuilder builder = new ExampleBuilder(max, CLS, SEP, replay(99), (ids, length, startB) -> {
            int[] row = Arrays.copyOf(ids, max + 2);
            row[max] = length;
            row[max + 1] = startB;
            ours.add(row);
        });
        for (List<Integer> s : lines) {
            if (s.isEmpty()) {
                builder.endDocument();
                continue;
            }
            int[] kept = s.stream().limit(max).mapToInt(Integer::intValue).toArray(); // what the pipeline keeps
            builder.addSentence(kept, s.size());
        }
        builder.endDocument();

        assertEquals(original.rows.size(), ours.size(), "row count");
        for (int i = 0; i < ours.size(); i++) {
            int[] o = original.rows.get(i), u = ours.get(i);
            // Python pads with 0 after the real tokens; compare the real part and the metadata.
            int len = o[max];
            if (!Arrays.equals(Arrays.copyOf(o, len), Arrays.copyOf(u, len)) || o[max] != u[max] || o[max + 1] != u[max + 1]) {
                fail("row " + i + ": expected len " + o[max] + " startB " + o[max + 1] + " " + Arrays.toString(Arrays.copyOf(o, len))
                        + "\n actual len " + u[max] + " startB " + u[max + 1] + " " + Arrays.toString(Arrays.copyOf(u, u[max])));
            }
            for (int j = len; j < max; j++) assertEquals(0, u[j], "padding of row " + i + " at " + j);
        }
        assertTrue(ours.size() > 5000, "rows: " + ours.size());
    }

    @Test
    void documentsAreNeverGluedAndSegmentsAreWellFormed() throws Exception {
        int max = 32;
        List<int[]> rows = new ArrayList<>();
        List<int[]> meta = new ArrayList<>();
        ExampleBuilder b = new ExampleBuilder(max, CLS, SEP, 5L, (ids, length, startB) -> {
            rows.add(ids.clone());
            meta.add(new int[]{length, startB});
        });
        Random gen = new Random(3);
        for (int doc = 0; doc < 300; doc++) {
            int sentences = 1 + gen.nextInt(12);
            for (int s = 0; s < sentences; s++) {
                int[] ids = new int[1 + gen.nextInt(20)];
                Arrays.fill(ids, 1000 + doc); // each document's tokens carry its number
                b.addSentence(ids, ids.length);
            }
            b.endDocument();
        }
        int single = 0;
        for (int i = 0; i < rows.size(); i++) {
            int[] r = rows.get(i);
            int length = meta.get(i)[0], startB = meta.get(i)[1];
            assertEquals(CLS, r[0], "row " + i);
            assertEquals(SEP, r[length - 1], "row " + i + " ends with [SEP]");
            assertEquals(SEP, r[startB - 1], "row " + i + " has [SEP] before B");
            int doc = r[1];
            for (int j = 1; j < length; j++) {
                if (r[j] != SEP && r[j] != doc) fail("row " + i + " mixes documents " + doc + " and " + r[j]);
            }
            for (int j = length; j < max; j++) assertEquals(0, r[j]);
            if (startB == length) single++;
        }
        assertTrue(single > 0 && single < rows.size(), "single-segment rows: " + single + " of " + rows.size());
    }
}
