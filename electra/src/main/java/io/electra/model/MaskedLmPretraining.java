package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Var;
import io.electra.engine.Precision;
import io.electra.engine.nn.Bf16Copies;
import io.electra.engine.nn.Parameter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The BERT masked-LM baseline at the discriminator's size, in the same engine: an ELECTRA-architecture
 * masked LM (HF {@code ElectraForMaskedLM}) trained on BERT's 80/10/10 masking, loss = MLM only.
 * The benchmarks compare its step against ELECTRA's.
 */
public final class MaskedLmPretraining {
    public final ElectraGenerator model;

    public MaskedLmPretraining(Backend backend, ElectraConfig config) {
        ElectraConfig c = config.copy();
        c.architectures = List.of("ElectraForMaskedLM");
        model = new ElectraGenerator(backend, c, null);
        model.assignNames("");
    }

    /** As {@link ElectraPretraining#usePrecision}: bf16 copies of the Linear weights and the tied output projection. */
    public void usePrecision(Precision precision) {
        if (precision == Precision.BF16) {
            Bf16Copies.enableLinearWeights(model);
            model.lmHeadWeight().enableBf16Copy();
        } else {
            Bf16Copies.disableAll(model);
        }
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(model.namedParameters().values());
    }

    /** Mean MLM cross-entropy over the live prediction slots. */
    public Var forward(Ops ops, ElectraInputs original, ElectraPretraining.DeviceMasking masking) {
        return model.logitsAndLoss(ops, original.withIds(masking.generatorIds()), masking.rows(), masking.targets(), null).loss();
    }

    public void saveHf(Path dir) throws IOException {
        HfFolder.save(model, model.config, dir.resolve("mlm"));
    }

    public void loadHf(Path dir) throws IOException {
        Path d = dir.resolve("mlm");
        HfFolder.LoadReport r = HfFolder.load(model.namedParameters(), d, Set.of("generator_lm_head.weight"));
        HfFolder.requireComplete(r, d);
    }
}
