package io.electra.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A file HuggingFace wrote (the tiny ELECTRA discriminator) reads with the names, shapes and values it holds. */
class HfSafeTensorsTest {
    private static final Path MODEL = SharedData.path("fixtures/hf-electra/tiny/discriminator/model.safetensors");
    private static final Path MANIFEST = SharedData.path("fixtures/hf-electra/tiny/manifest.json");

    @Test
    void namesShapesAndDtypesMatchTheManifest() throws IOException {
        JsonNode keys = new ObjectMapper().readTree(MANIFEST.toFile())
                .at("/model/weights/discriminator/keys");
        assertEquals(44, keys.size(), "manifest lists 44 discriminator tensors");
        try (SafeTensorsFile f = SafeTensorsFile.open(MODEL)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            Set<String> expected = new HashSet<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = keys.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> k = it.next();
                expected.add(k.getKey());
                SafeTensorsEntry e = f.entry(k.getKey());
                int[] shape = new int[k.getValue().get("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = k.getValue().get("shape").get(i).intValue();
                assertArrayEquals(shape, e.shape(), k.getKey());
                String dtype = k.getValue().get("dtype").textValue();
                assertEquals(dtype.equals("int64") ? SafeTensorsDType.I64 : SafeTensorsDType.F32, e.dtype(), k.getKey());
            }
            assertEquals(expected, new HashSet<>(f.names()));
        }
    }

    @Test
    void positionIdsBufferIsZeroToSixtyThree() throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(MODEL)) {
            long[] ids = f.readLong("electra.embeddings.position_ids");
            assertEquals(64, ids.length);
            for (int i = 0; i < 64; i++) assertEquals(i, ids[i], "position_ids[" + i + "]");
            int[] asInt = f.readInt("electra.embeddings.position_ids");
            for (int i = 0; i < 64; i++) assertEquals(i, asInt[i], "position_ids[" + i + "] as int");
        }
    }

    /** Every float tensor equals what an independent, deliberately naive parse of the raw bytes finds. */
    @Test
    void valuesMatchAnIndependentParseOfTheRawBytes() throws IOException {
        byte[] raw = Files.readAllBytes(MODEL);
        ByteBuffer le = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) le.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(raw, 8, headerLength, "UTF-8"));
        int checked = 0;
        try (SafeTensorsFile f = SafeTensorsFile.open(MODEL, 4093)) { // small windows: reads straddle them
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> k = it.next();
                if (!"F32".equals(k.getValue().path("dtype").textValue())) continue;
                int begin = k.getValue().get("data_offsets").get(0).intValue();
                int end = k.getValue().get("data_offsets").get(1).intValue();
                float[] expected = new float[(end - begin) / 4];
                for (int i = 0; i < expected.length; i++) expected[i] = le.getFloat(8 + headerLength + begin + 4 * i);
                assertArrayEquals(expected, f.readFloat(k.getKey()), k.getKey());
                checked++;
            }
        }
        assertEquals(43, checked, "float tensors compared");
    }

    @Test
    void weightsHaveTheFixtureInitialisation() throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(MODEL)) {
            float[] words = f.readFloat("electra.embeddings.word_embeddings.weight"); // [1000, 16]
            for (int c = 0; c < 16; c++) assertEquals(0f, words[c], "[PAD] row 0 is zero, column " + c);
            assertTrue(words[16] != 0f, "row 1 is drawn");
            // LayerNorm weights were drawn as 1 + N(0, 0.1^2): all within 1 +- 0.5
            for (float w : f.readFloat("electra.encoder.layer.1.output.LayerNorm.weight")) {
                assertTrue(Math.abs(w - 1) < 0.5, "LayerNorm weight " + w);
            }
        }
    }
}
