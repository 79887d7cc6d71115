package io.electra.cli;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;
import io.electra.engine.nn.Parameter;
import io.electra.model.ElectraInputs;
import io.electra.model.ElectraPretraining;
import io.electra.model.Masking;
import io.electra.device.Devices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * One forward (and optionally backward) pass of a generator/discriminator pair on a given batch:
 * how anyone checks us against any HuggingFace checkpoint.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run both ELECTRA networks on a fixed batch and write logits, losses and (with --grads) gradients.")
public final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--generator", required = true, description = "HF generator folder (config.json, model.safetensors)")
    Path generator;
    @Option(names = "--discriminator", required = true, description = "HF discriminator folder")
    Path discriminator;
    @Option(names = "--inputs", required = true, description = "safetensors with input_ids, attention_mask, "
            + "token_type_ids, mlm_positions [K,2], sampled_ids [K] (generator_input_ids optional)")
    Path inputs;
    @Option(names = "--out", required = true, description = "safetensors file to write")
    Path out;
    @Option(names = "--grads", description = "also write grad.total.<generator|discriminator>.<key> for every parameter")
    boolean grads;
    @Option(names = "--mask-id", defaultValue = "103", description = "[MASK] id used when generator_input_ids is absent (default ${DEFAULT-VALUE})")
    int maskId;
    @Option(names = "--disc-weight", defaultValue = "50", description = "weight of the discriminator loss (default ${DEFAULT-VALUE})")
    float discWeight;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or auto (default ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        try (Backend b = Devices.select(device, System.err); SafeTensorsFile in = SafeTensorsFile.open(inputs)) {
            for (String need : new String[]{"input_ids", "attention_mask", "token_type_ids", "mlm_positions", "sampled_ids"}) {
                if (!in.contains(need)) throw new IllegalArgumentException(inputs + ": missing tensor '" + need + "'");
            }
            ElectraPretraining m = ElectraPretraining.fromHf(b, generator, discriminator, discWeight);
            int[] shape = in.entry("input_ids").shape();
            if (shape.length != 2) throw new IllegalArgumentException(inputs + ": input_ids must be [B,T], got rank " + shape.length);
            int batch = shape[0], seq = shape[1];
            int[] ids = in.readInt("input_ids");
            ElectraInputs x = ElectraInputs.upload(b, batch, seq, ids, in.readInt("token_type_ids"), in.readInt("attention_mask"));
            int[] pos = in.readInt("mlm_positions");
            int[] sampledIds = in.readInt("sampled_ids");
            int k = pos.length / 2;
            if (sampledIds.length != k) {
                throw new IllegalArgumentException(inputs + ": sampled_ids has " + sampledIds.length + " ids for " + k + " mlm_positions");
            }
            int[] rows = new int[k], targets = new int[k];
            int[] genIds = in.contains("generator_input_ids") ? in.readInt("generator_input_ids") : ids.clone();
            for (int i = 0; i < k; i++) {
                int r = pos[2 * i], c = pos[2 * i + 1];
                if (r < 0 || r >= batch || c < 0 || c >= seq) {
                    throw new IllegalArgumentException(inputs + ": mlm_positions[" + i + "] = (" + r + ", " + c + ") is outside [" + batch + ", " + seq + "]");
                }
                rows[i] = r * seq + c;
                targets[i] = ids[rows[i]];
                if (!in.contains("generator_input_ids")) genIds[rows[i]] = maskId;
            }
            var masking = ElectraPretraining.DeviceMasking.upload(b, new Masking.Batch(genIds, rows, targets, rows.clone()), batch, seq);
            Tensor sampled = b.allocate(DType.I32, k);
            b.upload(sampled, sampledIds);

            Tape tape = new Tape(b);
            Ops ops = new Ops(tape);
            ops.setTraining(false);
            SafeTensorsWriter w = new SafeTensorsWriter();
            try (var s = tape.noGrad()) {
                Var all = m.generator.logits(ops, x.withIds(masking.generatorIds()), null, null);
                w.add("generator_logits", b.downloadFloat(all.value()), batch, seq, m.generator.config.vocabSize);
            }
            var o = m.forward(ops, x, masking, sampled, null, null);
            w.add("discriminator_logits", b.downloadFloat(o.discriminatorLogits().value()), batch, seq);
            w.add("generator_loss", b.downloadFloat(o.generatorLoss().value()));
            w.add("discriminator_loss", b.downloadFloat(o.discriminatorLoss().value()));
            w.add("total_loss", b.downloadFloat(o.total().value()));
            if (grads) {
                tape.backward(o.total());
                addGrads(w, b, "generator", m.generator.namedParameters());
                addGrads(w, b, "discriminator", m.discriminator.namedParameters());
            }
            w.write(out);
            System.err.printf("wrote %s (generator loss %.6f, discriminator loss %.6f, total %.6f)%n", out,
                    b.downloadFloat(o.generatorLoss().value())[0], b.downloadFloat(o.discriminatorLoss().value())[0],
                    b.downloadFloat(o.total().value())[0]);
        }
        return 0;
    }

    private static void addGrads(SafeTensorsWriter w, Backend b, String model, Map<String, Parameter> params) {
        for (var e : params.entrySet()) {
            w.add("grad.total." + model + "." + e.getKey(), b.downloadFloat(e.getValue().grad()), e.getValue().value().shape());
        }
        if (model.equals("generator")) { // the tied output layer, under its HF name too
            Parameter word = params.get("electra.embeddings.word_embeddings.weight");
            w.add("grad.total.generator.generator_lm_head.weight", b.downloadFloat(word.grad()), word.value().shape());
        }
    }
}
