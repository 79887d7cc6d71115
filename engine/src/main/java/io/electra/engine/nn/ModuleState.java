package io.electra.engine.nn;

import io.electra.engine.io.SafeTensorsEntry;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A module's parameters to and from safetensors files, by full name. Loading checks the whole file
 * against the module first and reports every problem at once; nothing is uploaded unless all fits.
 */
public final class ModuleState {
    private ModuleState() {
    }

    /**
     * Adds each distinct parameter once, under its first name, as HuggingFace's {@code save_pretrained}
     * drops tied aliases. Values are downloaded when the writer writes.
     */
    public static SafeTensorsWriter addTo(SafeTensorsWriter writer, Module module) {
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        module.namedParameters().forEach((name, p) -> {
            if (seen.put(p, Boolean.TRUE) == null) writer.add(name, p.value());
        });
        return writer;
    }

    /** Writes the module's parameters to {@code file} (atomically), with optional string metadata. */
    public static void save(Module module, Path file, Map<String, String> metadata) throws IOException {
        SafeTensorsWriter w = new SafeTensorsWriter();
        metadata.forEach(w::metadata);
        addTo(w, module).write(file);
    }

    /** Loads every parameter; the file must hold exactly the module's names. */
    public static void load(Module module, SafeTensorsFile file) {
        load(module, file, Set.of(), Set.of());
    }

    /**
     * Loads every parameter the file holds, converting F32/F16/BF16/F64 to the parameter's dtype. A
     * parameter listed under several names needs only one of them in the file.
     *
     * @param mayBeMissing parameter names the file may lack (they keep their values)
     * @param mayBeExtra   file keys that may name no parameter (buffers such as {@code position_ids})
     * @throws StateMismatchException listing every missing, unexpected and mis-shaped name
     */
    public static void load(Module module, SafeTensorsFile file, Set<String> mayBeMissing, Set<String> mayBeExtra) {
        Map<String, Parameter> named = module.namedParameters();
        // for each distinct parameter, the file key it loads from: the first of its names the file holds
        Map<Parameter, String> source = new IdentityHashMap<>();
        Map<Parameter, List<String>> names = new IdentityHashMap<>();
        named.forEach((name, p) -> {
            names.computeIfAbsent(p, k -> new ArrayList<>()).add(name);
            if (file.contains(name)) source.putIfAbsent(p, name);
        });
        List<String> missing = new ArrayList<>();
        names.forEach((p, aliases) -> {
            if (!source.containsKey(p) && aliases.stream().noneMatch(mayBeMissing::contains)) {
                missing.add(aliases.get(0));
            }
        });
        List<String> unexpected = new ArrayList<>();
        for (String key : file.names()) {
            if (!named.containsKey(key) && !mayBeExtra.contains(key)) unexpected.add(key);
        }
        List<String> mismatched = new ArrayList<>();
        Map<String, Parameter> plan = new LinkedHashMap<>();
        for (String name : named.keySet()) {
            Parameter p = named.get(name);
            if (!name.equals(source.get(p))) continue;
            SafeTensorsEntry e = file.entry(name);
            boolean floating = switch (e.dtype()) {
                case F32, F16, BF16, F64 -> true;
                default -> false;
            };
            if (!floating || !Arrays.equals(e.shape(), p.shape())) {
                mismatched.add(name + ": file " + e.dtype() + Arrays.toString(e.shape()) + " vs module "
                        + p.value().dtype() + Arrays.toString(p.shape()));
            } else {
                plan.put(name, p);
            }
        }
        missing.sort(null);
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
            throw new StateMismatchException(file.path(), missing, unexpected, mismatched);
        }
        plan.forEach((name, p) -> {
            switch (p.value().dtype()) {
                case F64 -> HostValues.upload(p.value(), file.readDouble(name));
                default -> HostValues.upload(p.value(), file.readFloat(name));
            }
            p.refreshBf16Copy();
        });
    }
}
