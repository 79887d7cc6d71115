package io.electra.tokenizer;

import it.unimi.dsi.fastutil.HashCommon;

import java.util.Arrays;

/**
 * A character trie over vocabulary entries that finds the longest entry starting at a position in
 * one walk, so WordPiece's greedy longest-match-first costs one step per character instead of one
 * hash lookup per candidate substring.
 *
 * <p>Children of the root (the first character) are a direct table; deeper edges live in one
 * open-addressing table keyed by (node, char). Matching works on UTF-16 units: vocabulary entries
 * are whole strings, so a match never ends inside a surrogate pair. Immutable after construction
 * and therefore safe to share between threads.
 */
final class PrefixTrie {
    private static final int NONE = -1;

    private final int[] rootChild = new int[0x10000];
    private long[] edgeKeys;   // (parent << 16 | char) + 1, 0 = empty slot
    private int[] edgeChild;
    private int edgeMask;
    private int edges;
    private int[] tokenId;     // per node: vocabulary id ending here, or NONE
    private int nodes = 1;     // node 0 is the root

    PrefixTrie(int expectedChars) {
        Arrays.fill(rootChild, NONE);
        int cap = HashCommon.arraySize(Math.max(16, expectedChars), 0.5f);
        edgeKeys = new long[cap];
        edgeChild = new int[cap];
        edgeMask = cap - 1;
        tokenId = new int[Math.max(16, expectedChars + 1)];
        Arrays.fill(tokenId, NONE);
    }

    /** Adds {@code s[from..]} with {@code id}; a later entry with the same text replaces the earlier. */
    void add(String s, int from, int id) {
        if (from >= s.length()) return; // an empty entry can never be a WordPiece match
        int node = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            int next = child(node, c);
            if (next == NONE) {
                next = newNode();
                if (node == 0) rootChild[c] = next;
                else putEdge(node, c, next);
            }
            node = next;
        }
        tokenId[node] = id;
    }

    /**
     * The longest entry that is a prefix of {@code chars[from..to)}: its id in the high 32 bits and
     * its end index in the low 32 bits, or -1 when no entry matches.
     */
    long longestMatch(char[] chars, int from, int to) {
        int node = rootChild[chars[from]];
        long best = -1;
        int i = from + 1;
        while (node != NONE) {
            int id = tokenId[node];
            if (id != NONE) best = ((long) id << 32) | i;
            if (i == to) break;
            node = child(node, chars[i++]);
        }
        return best;
    }

    private int child(int node, char c) {
        if (node == 0) return rootChild[c];
        long key = (((long) node << 16) | c) + 1;
        int slot = (int) HashCommon.mix(key) & edgeMask;
        long k;
        while ((k = edgeKeys[slot]) != 0) {
            if (k == key) return edgeChild[slot];
            slot = (slot + 1) & edgeMask;
        }
        return NONE;
    }

    private void putEdge(int node, char c, int childNode) {
        if (2 * (edges + 1) > edgeKeys.length) rehash();
        long key = (((long) node << 16) | c) + 1;
        int slot = (int) HashCommon.mix(key) & edgeMask;
        while (edgeKeys[slot] != 0) slot = (slot + 1) & edgeMask;
        edgeKeys[slot] = key;
        edgeChild[slot] = childNode;
        edges++;
    }

    private void rehash() {
        long[] oldKeys = edgeKeys;
        int[] oldChild = edgeChild;
        edgeKeys = new long[oldKeys.length * 2];
        edgeChild = new int[oldKeys.length * 2];
        edgeMask = edgeKeys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] == 0) continue;
            int slot = (int) HashCommon.mix(oldKeys[i]) & edgeMask;
            while (edgeKeys[slot] != 0) slot = (slot + 1) & edgeMask;
            edgeKeys[slot] = oldKeys[i];
            edgeChild[slot] = oldChild[i];
        }
    }

    private int newNode() {
        if (nodes == tokenId.length) {
            int old = tokenId.length;
            tokenId = Arrays.copyOf(tokenId, old * 2);
            Arrays.fill(tokenId, old, tokenId.length, NONE);
        }
        return nodes++;
    }
}
