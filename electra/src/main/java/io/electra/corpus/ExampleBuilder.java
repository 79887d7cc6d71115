package io.electra.corpus;

import io.electra.engine.RngKey;
import io.electra.engine.random.Philox;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * Packs tokenized sentences into pre-training rows the way ELECTRA's
 * {@code build_pretraining_dataset.py} does:
 * <ul>
 *   <li>sentences (lines) are accumulated until their tokens reach the target length, or the
 *       document ends (documents are never glued together);</li>
 *   <li>the sentences are then split into segments A and B: a sentence goes to A while A is empty
 *       or stays under {@code (target - 3) / 2} tokens, and with probability 1/2 when it would
 *       overshoot but A is still short; 10% of examples have one segment only;</li>
 *   <li>A is trimmed to {@code max - 2} tokens and B to what is left after {@code [CLS] A [SEP]}
 *       and its own {@code [SEP]}; the overflow is dropped, as in the original;</li>
 *   <li>after each example the next target is {@code max}, or with probability 5% a uniform
 *       length in {@code [5, max]}.</li>
 * </ul>
 * Random draws come from one Philox stream of the seed, in the order the original makes them, so
 * the output depends only on the seed and the token stream.
 *
 * <p>Only the first {@code max} ids of a sentence are kept (trimming never reaches further), but
 * its full length drives every decision, as in the original.
 */
final class ExampleBuilder {
    /** Philox purpose for corpus example building (kept apart from the training streams). */
    static final int PURPOSE_EXAMPLES = 0x434F5250;
    private static final int SINGLE_SEGMENT_TARGET = 100_000;

    /** Receives finished rows. */
    interface RowSink {
        /**
         * @param ids    {@code [CLS] A [SEP] (B [SEP])} padded with 0 to the maximum length
         * @param length number of real tokens
         * @param startB index of B's first token, or {@code length} when there is no B
         */
        void row(int[] ids, int length, int startB) throws IOException;
    }

    private final int maxLength;
    private final int clsId, sepId;
    private final RowSink sink;
    private final DoubleSupplier random;

    private final List<int[]> sentences = new ArrayList<>(); // kept ids, at most maxLength each
    private final IntArrayList lengths = new IntArrayList();  // full token counts
    private long currentLength;
    private int targetLength;
    private final int[] row;
    private final IntArrayList first = new IntArrayList(), second = new IntArrayList();

    ExampleBuilder(int maxLength, int clsId, int sepId, long seed, RowSink sink) {
        this(maxLength, clsId, sepId, philoxUniforms(seed), sink);
    }

    /** With the uniform draws supplied by the caller (tests replay one sequence into two builders). */
    ExampleBuilder(int maxLength, int clsId, int sepId, DoubleSupplier random, RowSink sink) {
        if (maxLength < 5) throw new IllegalArgumentException("max length must be at least 5, got " + maxLength);
        this.maxLength = maxLength;
        this.clsId = clsId;
        this.sepId = sepId;
        this.sink = sink;
        this.random = random;
        this.targetLength = maxLength;
        this.row = new int[maxLength];
    }

    /** One line's tokens: the first (at most max length) ids and the full count. */
    void addSentence(int[] ids, int fullLength) throws IOException {
        sentences.add(ids);
        lengths.add(fullLength);
        currentLength += fullLength;
        if (currentLength >= targetLength) createExample();
    }

    /** A blank line or the end of a file. */
    void endDocument() throws IOException {
        if (currentLength != 0) createExample();
    }

    private void createExample() throws IOException {
        long firstTarget = random.getAsDouble() < 0.1 ? SINGLE_SEGMENT_TARGET : (targetLength - 3) / 2;
        first.clear();
        second.clear();
        long lenFirst = 0, lenSecond = 0; // full lengths, before trimming
        for (int i = 0; i < sentences.size(); i++) {
            int len = lengths.getInt(i);
            boolean toFirst = lenFirst == 0 || lenFirst + len < firstTarget
                    || (lenSecond == 0 && lenFirst < firstTarget && random.getAsDouble() < 0.5);
            if (toFirst) {
                append(first, sentences.get(i));
                lenFirst += len;
            } else {
                append(second, sentences.get(i));
                lenSecond += len;
            }
        }
        int a = (int) Math.min(lenFirst, maxLength - 2);
        int b = (int) Math.max(0, Math.min(lenSecond, maxLength - a - 3));
        sentences.clear();
        lengths.clear();
        currentLength = 0;
        targetLength = random.getAsDouble() < 0.05 ? 5 + (int) (random.getAsDouble() * (maxLength - 4)) : maxLength;
        writeRow(a, b);
    }

    /** Appends while the list is shorter than max length; later ids would be trimmed anyway. */
    private void append(IntArrayList segment, int[] ids) {
        int room = maxLength - segment.size();
        if (room > 0) segment.addElements(segment.size(), ids, 0, Math.min(room, ids.length));
    }

    private void writeRow(int a, int b) throws IOException {
        int p = 0;
        row[p++] = clsId;
        first.getElements(0, row, p, a);
        p += a;
        row[p++] = sepId;
        int startB = p;
        if (b > 0) {
            second.getElements(0, row, p, b);
            p += b;
            row[p++] = sepId;
        }
        int length = p;
        while (p < maxLength) row[p++] = 0;
        sink.row(row, length, b > 0 ? startB : length);
    }

    /** Uniform doubles in [0, 1) (53 random bits each) from the Philox stream of {@code seed}. */
    static DoubleSupplier philoxUniforms(long seed) {
        RngKey key = new RngKey(seed, 0, PURPOSE_EXAMPLES);
        long[] draws = {0};
        return () -> {
            long hi = Philox.bits(key, draws[0]++) & 0xFFFFFFFFL;
            long lo = Philox.bits(key, draws[0]++) & 0xFFFFFFFFL;
            return ((hi << 21) ^ (lo >>> 11)) * 0x1.0p-53;
        };
    }
}
