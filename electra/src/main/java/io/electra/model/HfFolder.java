package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;
import io.electra.engine.nn.Module;
import io.electra.engine.nn.Parameter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A HuggingFace model folder: {@code config.json} + {@code model.safetensors} with state-dict keys.
 * Loading copies every tensor whose key names one of the module's parameters, checking shapes; what
 * is missing or unexpected is returned for the caller to judge (a generator folder legitimately lacks
 * the shared embeddings, a discriminator folder has a head a classifier does not use).
 */
public final class HfFolder {
    public static final String WEIGHTS = "model.safetensors";
    public static final String CONFIG = "config.json";
    /** HF 4.x stores this int64 buffer in ELECTRA checkpoints; it is always arange(max_positions). */
    public static final String POSITION_IDS = "electra.embeddings.position_ids";

    private HfFolder() {
    }

    /** What a load found: parameters the file lacked, and keys the module has no parameter for. */
    public record LoadReport(List<String> missing, List<String> unexpected) {
    }

    public static ElectraConfig readConfig(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException("model folder not found: " + dir);
        return ElectraConfig.read(dir.resolve(CONFIG));
    }

    /**
     * Loads the parameters of {@code model} (named by {@code names}, full HF keys) from the folder's
     * weights, skipping the keys in {@code skip}. Shape mismatches are an error naming key and file.
     */
    public static LoadReport load(Map<String, Parameter> names, Path dir, Set<String> skip) throws IOException {
        Path file = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(file)) throw new IOException("no " + WEIGHTS + " in " + dir);
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>();
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            for (var e : names.entrySet()) {
                String key = e.getKey();
                if (skip.contains(key)) continue;
                if (!f.contains(key)) {
                    missing.add(key);
                    continue;
                }
                Parameter p = e.getValue();
                int[] fileShape = f.entry(key).shape();
                if (!Arrays.equals(fileShape, p.value().shape())) {
                    throw new IOException(file + ": tensor '" + key + "' has shape " + Arrays.toString(fileShape)
                            + " but the model expects " + Arrays.toString(p.value().shape()));
                }
                Backend b = p.value().backend();
                if (p.value().dtype() == DType.F64) b.upload(p.value(), f.readDouble(key));
                else b.upload(p.value(), f.readFloat(key));
                p.refreshBf16Copy(); // a mixed-precision model's GEMM copy follows its master
            }
            for (String key : f.names()) {
                if (!names.containsKey(key) && !skip.contains(key) && !key.equals(POSITION_IDS)) unexpected.add(key);
            }
        }
        return new LoadReport(missing, unexpected);
    }

    /** Throws naming the folder when a load left parameters uninitialised. */
    public static void requireComplete(LoadReport r, Path dir) throws IOException {
        if (!r.missing().isEmpty()) {
            throw new IOException(dir + ": missing " + r.missing().size() + " tensor(s): " + r.missing());
        }
    }

    /**
     * Writes {@code config.json} and {@code model.safetensors} (every parameter under its HF key, plus the
     * position-ids buffer HF 4.x expects). Each file is written to a temporary name and renamed.
     */
    public static void save(Module model, ElectraConfig config, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafeTensorsWriter w = new SafeTensorsWriter();
        w.metadata("format", "pt");
        Map<String, Parameter> params = model.namedParameters();
        for (var e : params.entrySet()) {
            Parameter p = e.getValue();
            float[] data = p.value().backend().downloadFloat(p.value());
            w.add(e.getKey(), data, p.value().shape());
        }
        long[] positions = new long[config.maxPositionEmbeddings];
        for (int i = 0; i < positions.length; i++) positions[i] = i;
        w.add(POSITION_IDS, positions, 1, positions.length);
        w.write(dir.resolve(WEIGHTS));
        Path tmp = dir.resolve(CONFIG + ".tmp");
        config.write(tmp);
        Files.move(tmp, dir.resolve(CONFIG), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
