package io.electra.kernels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.kernels.runtime.Family;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * kernels/verified.json: per kernel, the sha256 of the PTX file it was verified from, the GPU and
 * driver, the worst error against the CPU backend, the date and the commit. A kernel whose PTX
 * hash differs from its entry's is stale: it changed since it last met a GPU.
 */
public final class LedgerFile {
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LedgerFile() {
    }

    /** kernel name -> family, for every entry point of every committed PTX file. */
    public static Map<String, Family> kernels() {
        Map<String, Family> out = new TreeMap<>();
        for (Family f : Family.values()) {
            Matcher m = ENTRY.matcher(new String(f.ptx(), java.nio.charset.StandardCharsets.US_ASCII));
            while (m.find()) out.put(m.group(1), f);
        }
        return out;
    }

    public static String sha256(Family f) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(f.ptx()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The ledger's "kernels" object (empty when the file does not exist yet). */
    public static ObjectNode read(Path file) throws IOException {
        if (!Files.exists(file)) return JSON.createObjectNode();
        JsonNode root = JSON.readTree(file.toFile());
        JsonNode kernels = root.get("kernels");
        if (kernels == null || !kernels.isObject()) throw new IOException(file + ": no \"kernels\" object");
        return (ObjectNode) kernels;
    }

    /** Writes the ledger atomically (temp file, then rename). */
    public static void write(Path file, ObjectNode kernels) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("about", "Kernels verified on a GPU against the CPU backend; written by VerifiedLedgerTest after a gpu test run.");
        ObjectNode sorted = JSON.createObjectNode();
        new TreeMap<String, JsonNode>(toMap(kernels)).forEach(sorted::set);
        root.set("kernels", sorted);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writeValue(tmp.toFile(), root);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Map<String, JsonNode> toMap(ObjectNode node) {
        Map<String, JsonNode> m = new TreeMap<>();
        node.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }
}
