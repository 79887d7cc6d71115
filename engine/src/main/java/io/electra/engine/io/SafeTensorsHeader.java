package io.electra.engine.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and validates a safetensors JSON header against the size of the data section that follows it.
 * Gaps between tensors are tolerated (the format does not forbid them for readers); overlaps are not.
 */
final class SafeTensorsHeader {
    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    final List<SafeTensorsEntry> entries; // header order
    final Map<String, String> metadata;

    private SafeTensorsHeader(List<SafeTensorsEntry> entries, Map<String, String> metadata) {
        this.entries = entries;
        this.metadata = metadata;
    }

    static SafeTensorsHeader parse(Path file, byte[] json, long dataBytes) throws SafeTensorsFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new SafeTensorsFormatException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.IOException e) {
            throw new SafeTensorsFormatException(file, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsFormatException(file, "header must be a JSON object");
        }
        List<SafeTensorsEntry> entries = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        var fields = root.fields();
        while (fields.hasNext()) {
            var field = fields.next();
            if (field.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(file, field.getValue());
            } else {
                entries.add(parseEntry(file, field.getKey(), field.getValue()));
            }
        }
        checkRanges(file, entries, dataBytes);
        return new SafeTensorsHeader(Collections.unmodifiableList(entries), metadata);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) throws SafeTensorsFormatException {
        if (!node.isObject()) throw new SafeTensorsFormatException(file, METADATA_KEY + " must be an object");
        Map<String, String> out = new LinkedHashMap<>();
        var it = node.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new SafeTensorsFormatException(file, METADATA_KEY + " value for '" + e.getKey()
                        + "' must be a string, found " + e.getValue().getNodeType());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static SafeTensorsEntry parseEntry(Path file, String name, JsonNode node)
            throws SafeTensorsFormatException {
        if (!node.isObject()) throw SafeTensorsFormatException.forTensor(file, name, "entry must be a JSON object");
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw SafeTensorsFormatException.forTensor(file, name, "missing or non-string 'dtype'");
        }
        SafeTensorsDType dtype = SafeTensorsDType.parse(dtypeNode.textValue());
        if (dtype == null) {
            throw SafeTensorsFormatException.forTensor(file, name, "unknown dtype '" + dtypeNode.textValue()
                    + "' (known: " + Arrays.toString(SafeTensorsDType.values()) + ")");
        }
        int[] shape = parseShape(file, name, node.get("shape"));
        long[] offsets = parseOffsets(file, name, node.get("data_offsets"));
        long begin = offsets[0], end = offsets[1];
        if (begin > end) {
            throw SafeTensorsFormatException.forTensor(file, name, "data_offsets begin " + begin + " > end " + end);
        }
        long expected;
        try {
            long n = 1;
            for (int d : shape) n = Math.multiplyExact(n, (long) d);
            expected = Math.multiplyExact(n, (long) dtype.bytes);
        } catch (ArithmeticException e) {
            throw SafeTensorsFormatException.forTensor(file, name, "shape " + Arrays.toString(shape) + " overflows");
        }
        if (end - begin != expected) {
            throw SafeTensorsFormatException.forTensor(file, name, "shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + expected + " bytes but data_offsets [" + begin + ", " + end + ") hold "
                    + (end - begin));
        }
        return new SafeTensorsEntry(name, dtype, shape, begin, end);
    }

    private static int[] parseShape(Path file, String name, JsonNode node) throws SafeTensorsFormatException {
        if (node == null || !node.isArray()) {
            throw SafeTensorsFormatException.forTensor(file, name, "missing or non-array 'shape'");
        }
        int[] shape = new int[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw SafeTensorsFormatException.forTensor(file, name, "shape[" + i + "] is not an integer: " + d);
            }
            long v = d.longValue();
            if (v < 0) throw SafeTensorsFormatException.forTensor(file, name, "negative dimension " + v + " in shape");
            if (v > Integer.MAX_VALUE) {
                throw SafeTensorsFormatException.forTensor(file, name, "dimension " + v + " exceeds 2^31-1");
            }
            shape[i] = (int) v;
        }
        return shape;
    }

    private static long[] parseOffsets(Path file, String name, JsonNode node) throws SafeTensorsFormatException {
        if (node == null || !node.isArray() || node.size() != 2) {
            throw SafeTensorsFormatException.forTensor(file, name, "'data_offsets' must be an array [begin, end]");
        }
        long[] out = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw SafeTensorsFormatException.forTensor(file, name, "data_offsets[" + i
                        + "] must be a non-negative integer, found " + v);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** Every tensor inside the data section, and no two sharing a byte. */
    private static void checkRanges(Path file, List<SafeTensorsEntry> entries, long dataBytes)
            throws SafeTensorsFormatException {
        for (SafeTensorsEntry e : entries) {
            if (e.end() > dataBytes) {
                throw SafeTensorsFormatException.forTensor(file, e.name(), "data_offsets [" + e.begin() + ", "
                        + e.end() + ") reach past the end of the data section (" + dataBytes
                        + " bytes): truncated file or bad offsets");
            }
        }
        List<SafeTensorsEntry> sorted = new ArrayList<>();
        for (SafeTensorsEntry e : entries) {
            if (e.byteCount() > 0) sorted.add(e); // empty tensors occupy no bytes, so cannot overlap
        }
        sorted.sort(Comparator.comparingLong(SafeTensorsEntry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            SafeTensorsEntry a = sorted.get(i - 1), b = sorted.get(i);
            if (b.begin() < a.end()) {
                throw SafeTensorsFormatException.forTensor(file, b.name(), "data_offsets [" + b.begin() + ", "
                        + b.end() + ") overlap tensor '" + a.name() + "' [" + a.begin() + ", " + a.end() + ")");
            }
        }
    }
}
